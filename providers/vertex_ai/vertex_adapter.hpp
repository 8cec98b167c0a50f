#pragma once

#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

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
  // Declared in vertex_settings.cpp.
  const ProviderSettings& settings() const override;
  Expected<ProviderCallPtr> open(const ClientRequest& request,
                                 const Target& target) const override;
  Expected<UpstreamRequest> buildRequest(const ClientRequest& request,
                                         const Target& target) const;
  MappedResponse mapResponse(const ClientRequest& request,
                             const Target& target,
                             UpstreamReply reply) const;
  std::unique_ptr<StreamTransformer> makeStreamTransformer(const ClientRequest& request,
                                                           const Target& target) const;
  // With vertex_service_account_json: the account and key id, and a hash of the key.
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

// The default base URL for a region: https://{region}-aiplatform.googleapis.com, or
// https://aiplatform.googleapis.com for "global".
std::string vertexBaseUrl(std::string_view region);

}  // namespace portico::providers
