#include "vertex_ai/vertex_adapter.hpp"

#include "portico/encoding.hpp"
#include "portico/http_types.hpp"
#include "portico/openai_wire.hpp"
#include "vertex_ai/service_account_jwt.hpp"
#include "vertex_ai/vertex_call.hpp"

namespace portico::providers {

namespace {

constexpr std::string_view kProvider = "vertex-ai";

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

// The account and key id name the credential without exposing the private key.
std::string cacheKeyOf(const vertex::ServiceAccountKey& key) {
  return "vertex-ai|" + key.client_email + "|" + key.private_key_id + "|" +
         sha256Hex(key.private_key);
}

}  // namespace

VertexSettings VertexSettings::read(const Target& target) {
  VertexSettings out;
  out.project_id = target.option("vertex_project_id");
  out.region = target.option("vertex_region");
  if (out.region.empty()) {
    out.region = kVertexDefaultRegion;
  }
  auto account = target.options.find("vertex_service_account_json");
  if (account != target.options.end() && !account->is_null() &&
      !(account->is_string() && account->get_ref<const std::string&>().empty())) {
    out.service_account = *account;
  }
  return out;
}

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

bool VertexAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kEmbeddings:
    case Endpoint::kPassthrough:
    case Endpoint::kMessages:  // natively for Claude, else translated by the gateway
      return true;
    case Endpoint::kCompletions:
    case Endpoint::kResponses:  // served through chat completions by the gateway
      return false;
  }
  return false;
}

bool VertexAdapter::servesNatively(Endpoint endpoint, std::string_view model) const {
  if (endpoint == Endpoint::kMessages) {
    return parseVertexModel(model).anthropic;
  }
  return supports(endpoint);
}

Expected<ProviderCallPtr> VertexAdapter::open(const ClientRequest& request,
                                              const Target& target) const {
  if (target.api_key.empty()) {
    // A service account is turned into an access token by tokenExchange() before the call.
    return errors::missingApiKey(kProvider);
  }
  VertexCallParts parts{.settings = VertexSettings::read(target)};
  if (!isPathSafe(parts.settings.region)) {
    return errors::failure(400, "vertex-ai: invalid vertex_region");
  }
  if (request.endpoint == Endpoint::kPassthrough) {
    return makeVertexCall(request, target, std::move(parts));
  }
  if (parts.settings.project_id.empty()) {
    return errors::failure(400,
                           "vertex-ai: a project is required: send x-portkey-vertex-project-id "
                           "or vertex_project_id in the config");
  }
  if (!isPathSafe(parts.settings.project_id)) {
    return errors::failure(400, "vertex-ai: invalid vertex_project_id");
  }
  if (request.body == nullptr || !request.body->is_object()) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  parts.request_model = openai::stringField(request.body, "model");
  if (parts.request_model.empty()) {
    return errors::failure(400, "Model is required");
  }
  parts.model = parseVertexModel(parts.request_model);
  return makeVertexCall(request, target, std::move(parts));
}

std::optional<std::string> VertexAdapter::tokenCacheKey(const Target& target) const {
  const VertexSettings settings = VertexSettings::read(target);
  if (settings.service_account.is_null()) {
    return std::nullopt;
  }
  std::string error;
  auto key = vertex::parseServiceAccount(settings.service_account, &error);
  if (!key) {
    return std::string("vertex-ai|unusable");  // tokenExchange() reports why
  }
  return cacheKeyOf(*key);
}

Expected<TokenExchange> VertexAdapter::tokenExchange(
    const Target& target, std::chrono::system_clock::time_point now) const {
  std::string error;
  auto key = vertex::parseServiceAccount(VertexSettings::read(target).service_account, &error);
  if (!key) {
    return errors::failure(400, "vertex-ai: invalid vertex_service_account_json: " + error);
  }
  auto assertion = vertex::buildJwtAssertion(*key, openai::unixSeconds(now), &error);
  if (!assertion) {
    return errors::failure(400, "vertex-ai: cannot sign with the service account: " + error);
  }
  auto url = parseBaseUrl(key->token_uri.empty() ? vertex::kDefaultTokenUri : key->token_uri);
  if (!url) {
    return errors::failure(400, "vertex-ai: invalid token_uri in the service account");
  }
  TokenExchange exchange;
  exchange.cache_key = cacheKeyOf(*key);
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
