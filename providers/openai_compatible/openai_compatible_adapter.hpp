#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

// How a provider takes its key.
enum class AuthStyle {
  kBearer,          // Authorization: Bearer <key>; a key is required
  kBearerOptional,  // Authorization: Bearer <key> only when a key is given
  kApiKeyHeader,    // api-key: <key>
  kNone,            // no auth (ollama)
};

// Endpoints a provider serves through the unified routes, as a bit set.
enum EndpointBits : unsigned {
  kChat = 1u << 0,
  kText = 1u << 1,   // /v1/completions
  kEmbed = 1u << 2,  // /v1/embeddings
  kProxyOnly = 0u,
};

// Rewrites the JSON body for a provider whose names differ from OpenAI's. Returns true when it
// changed anything (the body is then re-serialised).
using BodyQuirk = bool (*)(nlohmann::json& body, const ClientRequest& request);

// One row of the OpenAI-compatible table: everything that tells two such providers apart.
struct OpenAiCompatibleSpec {
  std::string_view id;
  // What "/v1" means for this provider; paths below are appended to it. Empty: the provider has
  // no public host and needs x-portkey-custom-host (ollama). A custom host replaces it as a whole
  // and keeps `api_prefix`, so custom hosts are given the way Portkey expects them.
  std::string_view base_url;
  unsigned endpoints = kChat;
  AuthStyle auth = AuthStyle::kBearer;
  // Inserted between a custom host or base URL and the OpenAI path, e.g. "/v1" for providers
  // whose base has no version (ollama, together-ai, deepseek).
  std::string_view api_prefix = "";
  BodyQuirk quirk = nullptr;
  // A fixed extra request header (openrouter's HTTP-Referer).
  std::string_view extra_header_name = "";
  std::string_view extra_header_value = "";
  // Sends OpenAI-Organization / OpenAI-Project / OpenAI-Beta from the x-portkey-openai-* headers
  // or the openai_organization / openai_project config fields.
  bool openai_headers = false;
  // Streams report usage as x_groq.usage (groq): moved to `usage` by a stream transformer.
  bool usage_in_x_groq = false;
};

// The shared adapter for every OpenAI-compatible provider: URL and auth from the spec, the body
// passed through (unknown fields kept; only the spec's quirk renames fields), answers and
// streams relayed unchanged, errors normalised.
class OpenAiCompatibleAdapter : public ProviderAdapter {
 public:
  explicit OpenAiCompatibleAdapter(const OpenAiCompatibleSpec& spec) : spec_(spec) {}

  std::string_view id() const override { return spec_.id; }
  bool supports(Endpoint endpoint) const override;
  // Declared in openai_compatible_settings.cpp.
  const ProviderSettings& settings() const override;
  Expected<ProviderCallPtr> open(const ClientRequest& request,
                                 const Target& target) const override;
  virtual Expected<UpstreamRequest> buildRequest(const ClientRequest& request,
                                         const Target& target) const;
  MappedResponse mapResponse(const ClientRequest& request,
                             const Target& target,
                             UpstreamReply reply) const;
  std::unique_ptr<StreamTransformer> makeStreamTransformer(const ClientRequest& request,
                                                           const Target& target) const;

  const OpenAiCompatibleSpec& spec() const { return spec_; }

 protected:
  // Adds the provider's auth headers to `out`. Fails when a required key is missing.
  virtual Expected<bool> applyAuth(const ClientRequest& request,
                                   const Target& target,
                                   UpstreamRequest& out) const;
  // The path after the base URL for a unified endpoint or a passthrough request.
  virtual std::string pathFor(const ClientRequest& request, const Target& target) const;

 private:
  OpenAiCompatibleSpec spec_;
};

// The table of all OpenAI-compatible providers (providers/openai_compatible/provider_table.cpp).
std::span<const OpenAiCompatibleSpec> openAiCompatibleSpecs();

}  // namespace portico::providers
