#include "vertex_ai/vertex_adapter.hpp"
#include "common/stateless_call.hpp"
#include "portico/encoding.hpp"

#include "anthropic/anthropic_adapter.hpp"
#include "common/aws_sigv4.hpp"
#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/json_parse.hpp"
#include "vertex_ai/service_account_jwt.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

constexpr std::string_view kProvider = "vertex-ai";
constexpr std::string_view kDefaultRegion = "us-central1";
constexpr std::string_view kAnthropicVertexVersion = "vertex-2023-10-16";

// Project ids and regions go into the URL path: allow only what GCP allows in them.
bool isPathSafe(std::string_view value) {
  if (value.empty()) {
    return false;
  }
  for (char c : value) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool hasServiceAccount(const Target& target) {
  auto it = target.options.find("vertex_service_account_json");
  if (it == target.options.end() || it->is_null()) {
    return false;
  }
  return !(it->is_string() && it->get_ref<const std::string&>().empty());
}

// Renames the provider in the Anthropic mapping's output ("anthropic" -> "vertex-ai").
void renameProvider(json& payload) {
  if (!payload.is_object()) {
    return;
  }
  if (auto it = payload.find("provider"); it != payload.end()) {
    *it = kProvider;
  }
  if (auto error = payload.find("error"); error != payload.end() && error->is_object()) {
    auto message = error->find("message");
    constexpr std::string_view kPrefix = "anthropic error: ";
    if (message != error->end() && message->is_string() &&
        message->get_ref<const std::string&>().starts_with(kPrefix)) {
      *message =
          std::string(kProvider) + " error: " + message->get<std::string>().substr(kPrefix.size());
    }
  }
}

// Wraps the Anthropic stream translator, renaming the provider in each emitted event.
class RenamingStream : public StreamTransformer {
 public:
  explicit RenamingStream(std::unique_ptr<StreamTransformer> inner) : inner_(std::move(inner)) {}
  void feed(std::string_view bytes, std::string& out) override {
    std::string produced;
    inner_->feed(bytes, produced);
    rewrite(produced, out);
  }
  void finish(bool complete, std::string& out) override {
    std::string produced;
    inner_->finish(complete, produced);
    rewrite(produced, out);
  }

 private:
  static void rewrite(std::string_view produced, std::string& out) {
    // The inner transformer appends whole "data: ...\n\n" events only.
    while (!produced.empty()) {
      auto end = produced.find("\n\n");
      std::string_view frame = produced.substr(0, end);
      produced = end == std::string_view::npos ? std::string_view() : produced.substr(end + 2);
      constexpr std::string_view kData = "data: ";
      json payload =
          frame.starts_with(kData) ? parseJson(frame.substr(kData.size())) : json(nullptr);
      if (payload.is_object()) {
        renameProvider(payload);
        out += openai::sseData(payload);
      } else {
        out.append(frame);
        out += "\n\n";
      }
    }
  }
  std::unique_ptr<StreamTransformer> inner_;
};

}  // namespace

VertexModel parseVertexModel(std::string_view model) {
  if (model.starts_with("anthropic.")) {
    return {true, std::string(model.substr(10))};
  }
  if (model.starts_with("google.")) {
    return {false, std::string(model.substr(7))};
  }
  return {model.starts_with("claude"), std::string(model)};
}

std::string vertexBaseUrl(std::string_view region) {
  if (region == "global") {
    return "https://aiplatform.googleapis.com";
  }
  return "https://" + std::string(region) + "-aiplatform.googleapis.com";
}

Expected<ProviderCallPtr> VertexAdapter::open(const ClientRequest& request,
                                         const Target& target) const {
  return openStateless(*this, request, target);
}

bool VertexAdapter::supports(Endpoint endpoint) const {
  return endpoint == Endpoint::kChatCompletions || endpoint == Endpoint::kEmbeddings ||
         endpoint == Endpoint::kPassthrough;
}

Expected<UpstreamRequest> VertexAdapter::buildRequest(const ClientRequest& request,
                                                      const Target& target) const {
  if (target.api_key.empty()) {
    // A service account is turned into an access token by tokenExchange() before this call.
    return errors::missingApiKey(kProvider);
  }
  std::string region = target.option("vertex_region");
  if (region.empty()) {
    region = kDefaultRegion;
  }
  if (!isPathSafe(region)) {
    return errors::failure(400, "vertex-ai: invalid vertex_region");
  }
  const std::string base = vertexBaseUrl(region);

  if (request.endpoint == Endpoint::kPassthrough) {
    auto out = requestTo(base, request.path, request, target, true);
    if (!out) {
      return out;
    }
    copyPassthroughHeaders(request, out->headers);
    setHeader(out->headers, "authorization", "Bearer " + target.api_key);
    copyForwardedHeaders(request, target, out->headers);
    out->body = bodyBytes(request);
    return out;
  }

  std::string project = target.option("vertex_project_id");
  if (project.empty()) {
    return errors::failure(400,
                           "vertex-ai: a project is required: send x-portkey-vertex-project-id "
                           "or vertex_project_id in the config");
  }
  if (!isPathSafe(project)) {
    return errors::failure(400, "vertex-ai: invalid vertex_project_id");
  }
  if (request.body == nullptr || !request.body->is_object()) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  std::string model_text = gemini::requestModel(request);
  if (model_text.empty()) {
    return errors::failure(400, "Model is required");
  }
  VertexModel model = parseVertexModel(model_text);
  std::string path = "/v1/projects/" + project + "/locations/" + region + "/publishers/" +
                     (model.anthropic ? "anthropic" : "google") + "/models/" +
                     gemini::modelPathSegment(model.name);
  json body;
  HeaderList extra_headers;
  if (request.endpoint == Endpoint::kChatCompletions && model.anthropic) {
    auto mapped = anthropicChatBody(*request.body, target);
    if (!mapped) {
      return mapped.error();
    }
    body = std::move(*mapped);
    body.erase("model");  // Vertex takes the model from the URL only
    body["anthropic_version"] = kAnthropicVertexVersion;
    if (std::string beta = optionOrHeader(request, target, "anthropic_beta", "anthropic-beta");
        !beta.empty()) {
      extra_headers.emplace_back("anthropic-beta", std::move(beta));
    }
    path += request.stream ? ":streamRawPredict" : ":rawPredict";
  } else if (request.endpoint == Endpoint::kChatCompletions) {
    auto mapped = gemini::chatRequestBody(*request.body);
    if (!mapped) {
      return mapped.error();
    }
    body = std::move(*mapped);
    path += request.stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  } else if (request.endpoint == Endpoint::kEmbeddings) {
    if (model.anthropic) {
      return errors::unsupportedEndpoint(endpointName(request.endpoint), kProvider);
    }
    // Vertex text-embedding models take the same inputs; reuse the Gemini validation.
    auto mapped = gemini::embedRequestBody(*request.body, model.name);
    if (!mapped) {
      return mapped.error();
    }
    json instances = json::array();
    const json& input = (*request.body)["input"];
    if (input.is_string()) {
      instances.push_back({{"content", input}});
    } else {
      for (const auto& item : input) {
        instances.push_back({{"content", item}});
      }
    }
    body = {{"instances", std::move(instances)}};
    if (auto it = request.body->find("dimensions"); it != request.body->end() && !it->is_null()) {
      body["parameters"] = {{"outputDimensionality", *it}};
    }
    path += ":predict";
  } else {
    return errors::unsupportedEndpoint(endpointName(request.endpoint), kProvider);
  }
  auto out = requestTo(base, path, request, target, false);
  if (!out) {
    return out;
  }
  out->method = "POST";
  out->headers.emplace_back("content-type", "application/json");
  out->headers.emplace_back("authorization", "Bearer " + target.api_key);
  for (auto& header : extra_headers) {
    out->headers.push_back(std::move(header));
  }
  copyForwardedHeaders(request, target, out->headers);
  out->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

MappedResponse VertexAdapter::mapResponse(const ClientRequest& request,
                                          const Target& target,
                                          UpstreamReply reply) const {
  const bool ok = reply.status >= 200 && reply.status < 300;
  if (request.endpoint == Endpoint::kPassthrough) {
    return ok ? MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)}
              : gemini::errorResponse(kProvider, reply);
  }
  if (!ok) {
    return gemini::errorResponse(kProvider, reply);
  }
  VertexModel model = parseVertexModel(gemini::requestModel(request));
  if (request.endpoint == Endpoint::kChatCompletions && model.anthropic) {
    MappedResponse mapped = AnthropicAdapter().mapResponse(request, target, std::move(reply));
    json payload = parseJson(mapped.body);
    if (payload.is_object()) {
      renameProvider(payload);
      mapped.body = payload.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return mapped;
  }
  if (request.endpoint == Endpoint::kChatCompletions) {
    return gemini::chatResponse({.provider = kProvider,
                                 .request_model = gemini::requestModel(request),
                                 .created = openai::unixSeconds(request.now)},
                                reply.body);
  }
  // Embeddings: {predictions:[{embeddings:{values:[...], statistics:{token_count}}}]}.
  json parsed = parseJson(reply.body);
  auto predictions = parsed.is_object() ? parsed.find("predictions") : parsed.end();
  json vectors = json::array();
  long long tokens = 0;
  bool valid = parsed.is_object() && predictions != parsed.end() && predictions->is_array();
  if (valid) {
    for (const auto& prediction : *predictions) {
      const json* embeddings = prediction.is_object() && prediction.contains("embeddings")
                                   ? &prediction["embeddings"]
                                   : nullptr;
      if (embeddings == nullptr || !embeddings->is_object() || !embeddings->contains("values") ||
          !(*embeddings)["values"].is_array()) {
        valid = false;
        break;
      }
      vectors.push_back((*embeddings)["values"]);
      if (auto stats = embeddings->find("statistics");
          stats != embeddings->end() && stats->is_object()) {
        auto count = stats->find("token_count");
        if (count != stats->end() && count->is_number()) {
          tokens += count->get<long long>();
        }
      }
    }
  }
  if (!valid) {
    return fromError(errors::providerError(
        502, kProvider, "Invalid response received from vertex-ai: " + reply.body.substr(0, 1024)));
  }
  json list = gemini::embeddingList(vectors, gemini::requestModel(request), tokens,
                                    gemini::wantsBase64(request.body));
  return MappedResponse{200, "application/json", list.dump()};
}

std::unique_ptr<StreamTransformer> VertexAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& target) const {
  if (request.endpoint != Endpoint::kChatCompletions) {
    return nullptr;
  }
  if (parseVertexModel(gemini::requestModel(request)).anthropic) {
    return std::make_unique<RenamingStream>(makeAnthropicChatStream(request, target));
  }
  return gemini::makeStreamTransformer(std::string(kProvider), gemini::requestModel(request),
                                       openai::unixSeconds(request.now),
                                       gemini::wantsStreamUsage(request.body));
}

}  // namespace portico::providers

namespace portico::providers {

std::optional<std::string> VertexAdapter::tokenCacheKey(const Target& target) const {
  if (!hasServiceAccount(target)) {
    return std::nullopt;
  }
  std::string error;
  auto key = vertex::parseServiceAccount(target.options["vertex_service_account_json"], &error);
  if (!key) {
    return std::string("vertex-ai|unusable");  // tokenExchange() reports why
  }
  // The account and key id name the credential without exposing the private key.
  return "vertex-ai|" + key->client_email + "|" + key->private_key_id + "|" +
         sha256Hex(key->private_key);
}

Expected<TokenExchange> VertexAdapter::tokenExchange(const Target& target,
                                                     std::chrono::system_clock::time_point now) const {
  std::string error;
  auto key = vertex::parseServiceAccount(target.options["vertex_service_account_json"], &error);
  if (!key) {
    return errors::failure(400, "vertex-ai: invalid vertex_service_account_json: " + error);
  }
  const long long issued_at =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto assertion = vertex::buildJwtAssertion(*key, issued_at, &error);
  if (!assertion) {
    return errors::failure(400, "vertex-ai: cannot sign with the service account: " + error);
  }
  const std::string token_uri =
      key->token_uri.empty() ? std::string(vertex::kDefaultTokenUri) : key->token_uri;
  auto url = parseBaseUrl(token_uri);
  if (!url) {
    return errors::failure(400, "vertex-ai: invalid token_uri in the service account");
  }
  TokenExchange exchange;
  exchange.cache_key = tokenCacheKey(target).value_or("");
  exchange.request.method = "POST";
  exchange.request.scheme = url->scheme;
  exchange.request.host = url->host;
  exchange.request.port = url->port;
  exchange.request.target = url->path.empty() ? "/" : url->path;
  exchange.request.headers = {{"content-type", "application/x-www-form-urlencoded"},
                              {"accept", "application/json"}};
  exchange.request.body = vertex::tokenRequestBody(*assertion);
  return exchange;
}

Expected<FetchedToken> VertexAdapter::parseTokenReply(const UpstreamReply& reply) const {
  std::string error;
  auto token = vertex::parseTokenResponse(reply.body, &error);
  if (reply.status < 200 || reply.status >= 300 || !token) {
    const int status = reply.status >= 400 && reply.status < 500 ? 401 : 502;
    return errors::providerError(
        status, kProvider,
        "service-account token exchange failed: " +
            (error.empty() ? "status " + std::to_string(reply.status) : error),
        "authentication_error");
  }
  return FetchedToken{token->access_token, std::chrono::seconds(token->expires_in)};
}

}  // namespace portico::providers
