#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

inline constexpr std::string_view kVertexDefaultRegion = "us-central1";

// The target's Vertex settings, read once from Target::options.
struct VertexSettings {
  std::string project_id;  // vertex_project_id
  std::string region;      // vertex_region; kVertexDefaultRegion when not set
  // vertex_service_account_json: the key as an object or as JSON text; null when not set.
  nlohmann::json service_account;

  static VertexSettings read(const Target& target);
};

// The `vertex-ai` provider. Gemini models go to
// {base}/v1/projects/{project}/locations/{region}/publishers/google/models/{model}:generateContent
// (:streamGenerateContent?alt=sse, :predict for embeddings) with the shared Gemini mapping;
// Claude models ("anthropic.claude-...", "claude-...") go to publishers/anthropic ...:rawPredict /
// :streamRawPredict with the Anthropic Messages mapping. Auth: Authorization: Bearer <api_key>
// (an OAuth access token). {base} is https://{region}-aiplatform.googleapis.com
// (aiplatform.googleapis.com for region "global"), or the custom host.
class VertexAdapter : public ProviderAdapter {
 public:
  std::string_view id() const override { return "vertex-ai"; }
  bool supports(Endpoint endpoint) const override;
  // Anthropic's Messages API goes as it is (rawPredict) to Claude models only; the gateway
  // translates it through chat completions for Gemini.
  bool servesNatively(Endpoint endpoint, std::string_view model) const override;
  // Declared in vertex_settings.cpp.
  const ProviderSettings& settings() const override;
  // Fails without an access token or with an unusable region, and for chat and embeddings
  // without a project or a JSON object body naming a model. The call is in vertex_call.cpp.
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
  // With vertex_service_account_json: the account and key id, and a hash of the key. Signs
  // nothing.
  std::optional<std::string> tokenCacheKey(const Target& target) const override;
  // The signed JWT exchanged at the key's token_uri (Google's by default) for an access token.
  Expected<TokenExchange> tokenExchange(const Target& target,
                                        std::chrono::system_clock::time_point now) const override;
  Expected<FetchedToken> parseTokenReply(const UpstreamReply& reply) const override;
};

// Which publisher serves a Vertex model name, and the model id used in the URL.
struct VertexModel {
  bool anthropic = false;
  std::string name;  // without a "google." / "anthropic." prefix
};
VertexModel parseVertexModel(std::string_view model);

// Anthropic's Messages API on Claude models (vertex_messages.cpp), exposed for unit tests.
namespace vertex {

// The version Vertex AI requires in every Claude body.
inline constexpr std::string_view kAnthropicVertexVersion = "vertex-2023-10-16";

// A Messages body -> the rawPredict / streamRawPredict body: without model (the URL names it),
// with Vertex's anthropic_version; `stream` stays, as Vertex's Claude endpoint reads it.
nlohmann::json toMessagesBody(const nlohmann::json& body);

// The answer to a Messages request: a 2xx is Anthropic's message, passed on unchanged with its
// usage read; Vertex's errors ({"error":{code,message,status}}) become Anthropic's error shape
// with the status kept, and errors already in that shape pass unchanged.
MappedResponse mapMessagesResponse(UpstreamReply reply);

}  // namespace vertex

// The default base URL for a region: https://{region}-aiplatform.googleapis.com, or
// https://aiplatform.googleapis.com for "global".
std::string vertexBaseUrl(std::string_view region);

}  // namespace portico::providers
