#include "vertex_ai/vertex_call.hpp"

#include <optional>

#include "anthropic/anthropic_adapter.hpp"
#include "common/request_helpers.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

constexpr std::string_view kProvider = "vertex-ai";
using vertex::kAnthropicVertexVersion;

// A text-embedding :predict answer, {predictions:[{embeddings:{values, statistics}}]}.
struct Predictions {
  json vectors = json::array();
  std::optional<long long> tokens;  // the sum of statistics.token_count, when any is given
};

std::optional<Predictions> readPredictions(const json& answer) {
  auto predictions = answer.is_object() ? answer.find("predictions") : answer.end();
  if (!answer.is_object() || predictions == answer.end() || !predictions->is_array()) {
    return std::nullopt;
  }
  Predictions out;
  for (const auto& prediction : *predictions) {
    auto embeddings = prediction.is_object() ? prediction.find("embeddings") : prediction.end();
    if (!prediction.is_object() || embeddings == prediction.end() || !embeddings->is_object()) {
      return std::nullopt;
    }
    auto values = embeddings->find("values");
    if (values == embeddings->end() || !values->is_array()) {
      return std::nullopt;
    }
    out.vectors.push_back(*values);
    if (auto stats = embeddings->find("statistics");
        stats != embeddings->end() && stats->is_object()) {
      auto count = stats->find("token_count");
      if (count != stats->end() && count->is_number()) {
        out.tokens = out.tokens.value_or(0) + count->get<long long>();
      }
    }
  }
  return out;
}

// One request on Vertex AI: settings, model (parsed once), base URL, model path, completion id
// and `created` are derived when the call is opened.
class VertexCall final : public ProviderCall {
 public:
  VertexCall(const ClientRequest& request, const Target& target, VertexCallParts parts)
      : request_(request),
        target_(target),
        settings_(std::move(parts.settings)),
        request_model_(std::move(parts.request_model)),
        model_(std::move(parts.model)),
        base_url_(vertexBaseUrl(settings_.region)),
        id_(openai::newId(gemini::kIdPrefix)),
        created_(openai::unixSeconds(request.now)) {
    if (model_.anthropic) {
      anthropic_ = AnthropicSettings::read(target);
    }
  }

  Expected<UpstreamRequest> request() override {
    const bool chat = request_.endpoint == Endpoint::kChatCompletions;
    if (request_.endpoint == Endpoint::kPassthrough) {
      return passthrough();
    }
    if (chat && model_.anthropic) {
      return claudeChat();
    }
    if (chat) {
      return geminiChat();
    }
    if (request_.endpoint == Endpoint::kMessages && model_.anthropic) {
      return claudeMessages();
    }
    if (request_.endpoint == Endpoint::kEmbeddings && !model_.anthropic) {
      return embeddings();
    }
    return errors::unsupportedEndpoint(endpointName(request_.endpoint), kProvider);
  }

  MappedResponse mapResponse(UpstreamReply reply) override {
    if (request_.endpoint == Endpoint::kMessages) {
      return vertex::mapMessagesResponse(std::move(reply));  // Anthropic's answers and errors
    }
    const bool ok = reply.status >= 200 && reply.status < 300;
    if (!ok) {
      return gemini::errorResponse(kProvider, reply);
    }
    switch (request_.endpoint) {
      case Endpoint::kPassthrough:
        return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
      case Endpoint::kChatCompletions:
        if (model_.anthropic) {
          return anthropicChatResponse(request_, target_, std::move(reply), kProvider);
        }
        return gemini::chatResponse({.provider = kProvider,
                                     .request_model = request_model_,
                                     .created = created_,
                                     .id = id_},
                                    reply.body);
      case Endpoint::kEmbeddings:
        return embeddingResponse(reply.body);
      case Endpoint::kCompletions:
      case Endpoint::kMessages:
      case Endpoint::kResponses:
        break;  // request() refused these (kMessages is answered above)
    }
    return fromError(errors::unsupportedEndpoint(endpointName(request_.endpoint), kProvider));
  }

  std::unique_ptr<StreamTransformer> streamTransformer() override {
    if (request_.endpoint == Endpoint::kMessages) {
      return makeAnthropicMessagesStream(kProvider);  // Claude's own SSE, its usage read
    }
    if (request_.endpoint != Endpoint::kChatCompletions) {
      return nullptr;
    }
    if (model_.anthropic) {
      return makeAnthropicChatStream(request_, target_, kProvider);
    }
    return gemini::makeStreamTransformer(std::string(kProvider), request_, id_);
  }

 private:
  Expected<UpstreamRequest> passthrough() const {
    auto out = requestTo(base_url_, request_.path, request_, target_, true);
    if (!out) {
      return out;
    }
    copyPassthroughHeaders(request_, out->headers);
    setHeader(out->headers, "authorization", "Bearer " + target_.api_key);
    copyForwardedHeaders(request_, target_, out->headers);
    out->body = bodyBytes(request_);
    return out;
  }

  Expected<UpstreamRequest> claudeChat() const {
    auto body = anthropicChatBody(*request_.body, *anthropic_);
    if (!body) {
      return body.error();
    }
    body->erase("model");  // Vertex takes the model from the URL only
    (*body)["anthropic_version"] = kAnthropicVertexVersion;
    return post(request_.stream ? ":streamRawPredict" : ":rawPredict", *body, betaHeader());
  }

  // Anthropic's own body, as the client wrote it, on the same endpoints as claudeChat().
  Expected<UpstreamRequest> claudeMessages() const {
    return post(request_.stream ? ":streamRawPredict" : ":rawPredict",
                vertex::toMessagesBody(*request_.body), betaHeader());
  }

  // anthropic-beta from the target's setting, else the client's header.
  HeaderList betaHeader() const {
    HeaderList extra;
    std::string beta = anthropic_->beta;
    if (beta.empty() && request_.headers != nullptr) {
      beta = std::string(findHeader(*request_.headers, "anthropic-beta").value_or(""));
    }
    if (!beta.empty()) {
      extra.emplace_back("anthropic-beta", std::move(beta));
    }
    return extra;
  }

  Expected<UpstreamRequest> geminiChat() const {
    auto body = gemini::chatRequestBody(*request_.body);
    if (!body) {
      return body.error();
    }
    return post(request_.stream ? ":streamGenerateContent?alt=sse" : ":generateContent", *body);
  }

  // Vertex text-embedding models take the same inputs as Gemini's: its validation is reused.
  Expected<UpstreamRequest> embeddings() const {
    auto valid = gemini::embedRequestBody(*request_.body, model_.name);
    if (!valid) {
      return valid.error();
    }
    json instances = json::array();
    const json& input = (*request_.body)["input"];
    if (input.is_string()) {
      instances.push_back({{"content", input}});
    } else {
      for (const auto& item : input) {
        instances.push_back({{"content", item}});
      }
    }
    json body = {{"instances", std::move(instances)}};
    if (auto it = request_.body->find("dimensions"); it != request_.body->end() && !it->is_null()) {
      body["parameters"] = {{"outputDimensionality", *it}};
    }
    return post(":predict", body);
  }

  // POST {base}/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}
  // {method} with the JSON body and the bearer token.
  Expected<UpstreamRequest> post(std::string_view method,
                                 const json& body,
                                 HeaderList extra_headers = {}) const {
    std::string path = "/v1/projects/" + settings_.project_id + "/locations/" + settings_.region +
                       "/publishers/" + (model_.anthropic ? "anthropic" : "google") + "/models/" +
                       gemini::modelPathSegment(model_.name);
    path += method;
    auto out = requestTo(base_url_, path, request_, target_, false);
    if (!out) {
      return out;
    }
    out->method = "POST";
    out->headers.emplace_back("content-type", "application/json");
    out->headers.emplace_back("authorization", "Bearer " + target_.api_key);
    for (auto& header : extra_headers) {
      out->headers.push_back(std::move(header));
    }
    copyForwardedHeaders(request_, target_, out->headers);
    out->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return out;
  }

  MappedResponse embeddingResponse(const std::string& body) const {
    auto predictions = readPredictions(parseJson(body));
    if (!predictions) {
      return fromError(errors::providerError(
          502, kProvider, "Invalid response received from vertex-ai: " + body.substr(0, 1024)));
    }
    return gemini::embeddingResponse(predictions->vectors, request_model_, predictions->tokens,
                                     gemini::wantsBase64(request_.body));
  }

  const ClientRequest& request_;
  const Target& target_;
  const VertexSettings settings_;
  const std::string request_model_;
  const VertexModel model_;
  const std::string base_url_;
  const std::string id_;
  const long long created_;
  std::optional<AnthropicSettings> anthropic_;  // Claude models only
};

}  // namespace

ProviderCallPtr makeVertexCall(const ClientRequest& request,
                               const Target& target,
                               VertexCallParts parts) {
  return std::make_unique<VertexCall>(request, target, std::move(parts));
}

}  // namespace portico::providers
