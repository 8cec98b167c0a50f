#include "google/google_adapter.hpp"

#include "common/request_helpers.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

constexpr std::string_view kProvider = "google";

// One request on the Gemini API: the model, its URL segment, the completion id and `created`
// are derived once, when the call is opened.
class GoogleCall final : public ProviderCall {
 public:
  GoogleCall(const ClientRequest& request, const Target& target, std::string model)
      : request_(request),
        target_(target),
        model_(std::move(model)),
        model_segment_(gemini::modelPathSegment(model_)),
        id_(openai::newId(gemini::kIdPrefix)),
        created_(openai::unixSeconds(request.now)) {}

  Expected<UpstreamRequest> request() override {
    switch (request_.endpoint) {
      case Endpoint::kPassthrough:
        return passthrough();
      case Endpoint::kChatCompletions:
        return chat();
      case Endpoint::kEmbeddings:
        return embeddings();
      default:
        return errors::unsupportedEndpoint(endpointName(request_.endpoint), kProvider);
    }
  }

  MappedResponse mapResponse(UpstreamReply reply) override {
    if (reply.status < 200 || reply.status >= 300) {
      return gemini::errorResponse(kProvider, reply);
    }
    switch (request_.endpoint) {
      case Endpoint::kChatCompletions:
        return gemini::chatResponse(
            {.provider = kProvider, .request_model = model_, .created = created_, .id = id_},
            reply.body);
      case Endpoint::kEmbeddings:
        return embeddingResponse(reply.body);
      default:
        return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
    }
  }

  std::unique_ptr<StreamTransformer> streamTransformer() override {
    if (request_.endpoint != Endpoint::kChatCompletions) {
      return nullptr;
    }
    return gemini::makeStreamTransformer(std::string(kProvider), request_, id_);
  }

 private:
  Expected<UpstreamRequest> passthrough() const {
    auto out = requestTo(kGoogleBaseUrl, request_.path, request_, target_, true);
    if (!out) {
      return out;
    }
    copyPassthroughHeaders(request_, out->headers);
    setHeader(out->headers, "x-goog-api-key", target_.api_key);
    copyForwardedHeaders(request_, target_, out->headers);
    out->body = bodyBytes(request_);
    return out;
  }

  Expected<UpstreamRequest> chat() const {
    auto body = gemini::chatRequestBody(*request_.body);
    if (!body) {
      return body.error();
    }
    return post(request_.stream ? ":streamGenerateContent?alt=sse" : ":generateContent", *body);
  }

  Expected<UpstreamRequest> embeddings() const {
    auto mapped = gemini::embedRequestBody(*request_.body, model_segment_);
    if (!mapped) {
      return mapped.error();
    }
    return post(mapped->batch ? ":batchEmbedContents" : ":embedContent", mapped->body);
  }

  // POST {base}/v1beta/models/{model}{method} with the JSON body and the key header.
  Expected<UpstreamRequest> post(std::string_view method, const json& body) const {
    std::string path = "/v1beta/models/" + model_segment_;
    path += method;
    auto out = requestTo(kGoogleBaseUrl, path, request_, target_, false);
    if (!out) {
      return out;
    }
    out->method = "POST";
    out->headers.emplace_back("content-type", "application/json");
    out->headers.emplace_back("x-goog-api-key", target_.api_key);
    copyForwardedHeaders(request_, target_, out->headers);
    out->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return out;
  }

  MappedResponse embeddingResponse(const std::string& body) const {
    json vectors = gemini::embeddingVectors(parseJson(body));
    if (vectors.is_null()) {
      return fromError(errors::providerError(
          502, kProvider, "Invalid response received from google: " + body.substr(0, 1024)));
    }
    // Gemini's embedding answers report no token counts.
    return gemini::embeddingResponse(vectors, model_, std::nullopt,
                                     gemini::wantsBase64(request_.body));
  }

  const ClientRequest& request_;
  const Target& target_;
  const std::string model_;
  const std::string model_segment_;
  const std::string id_;
  const long long created_;
};

}  // namespace

bool GoogleAdapter::supports(Endpoint endpoint) const {
  return endpoint == Endpoint::kChatCompletions || endpoint == Endpoint::kEmbeddings ||
         endpoint == Endpoint::kPassthrough;
}

Expected<ProviderCallPtr> GoogleAdapter::open(const ClientRequest& request,
                                              const Target& target) const {
  if (target.api_key.empty()) {
    return errors::missingApiKey(kProvider);
  }
  if (request.endpoint == Endpoint::kPassthrough) {
    return ProviderCallPtr(std::make_unique<GoogleCall>(request, target, std::string()));
  }
  if (request.body == nullptr || !request.body->is_object()) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  std::string model = openai::stringField(request.body, "model");
  if (model.empty()) {
    return errors::failure(400, "Model is required");
  }
  return ProviderCallPtr(std::make_unique<GoogleCall>(request, target, std::move(model)));
}

}  // namespace portico::providers
