#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
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
  kResp = 1u << 3,   // /v1/responses, OpenAI's Responses API in its own format
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
  // The provider takes stream_options.include_usage (openai, azure-openai): streams the client
  // did not ask usage for ask for it anyway, and the usage-only chunk is dropped on the way
  // back, so the gateway learns the counts whatever the client asked for.
  bool asks_stream_usage = false;
};

// OpenAI's request headers, for providers with `openai_headers`: the openai_organization /
// openai_project / openai_beta settings (config fields or x-portkey-openai-* headers), else the
// client's own OpenAI-Organization / OpenAI-Project / OpenAI-Beta.
struct OpenAiHeaderSettings {
  std::string organization;
  std::string project;
  std::string beta;

  static OpenAiHeaderSettings read(const ClientRequest& request, const Target& target);
};

// One client request on an OpenAI-compatible provider. The URL, auth and extra headers come
// from the spec (subclasses replace them: Azure's resource URL, Mistral's FIM path); the body is
// the client's (after the spec's quirk); answers and streams are relayed, errors normalised.
class OpenAiCompatibleCall : public ProviderCall {
 public:
  OpenAiCompatibleCall(const OpenAiCompatibleSpec& spec,
                       const ClientRequest& request,
                       const Target& target);

  Expected<UpstreamRequest> request() override;
  MappedResponse mapResponse(UpstreamReply reply) override;
  std::unique_ptr<StreamTransformer> streamTransformer() override;

 protected:
  // The custom host, else the spec's base URL ("/v1" of the provider).
  virtual std::string_view baseUrl() const;
  // The path after the base URL for a unified endpoint or a passthrough request.
  virtual std::string path() const;
  // The query sent upstream: the client's for passthrough, else none.
  virtual std::string query() const;
  // Adds the provider's auth headers. Fails when a required key is missing.
  virtual Expected<bool> addAuth(HeaderList& headers) const;
  // Adds the provider's own headers (the spec's extra header, OpenAI's headers).
  virtual void addProviderHeaders(HeaderList& headers) const;

  // For an upstream that refuses stream_options: adds none, and removes one the body has (the
  // gateway's Responses and Messages translations ask for the usage chunk).
  void refuseStreamOptions() {
    asks_stream_usage_ = false;
    refuses_stream_options_ = true;
  }

  const OpenAiCompatibleSpec& spec() const { return spec_; }
  const ClientRequest& client() const { return request_; }
  const Target& target() const { return target_; }
  bool passthrough() const { return passthrough_; }

 private:
  std::string body() const;

  const OpenAiCompatibleSpec& spec_;
  const ClientRequest& request_;
  const Target& target_;
  const bool passthrough_;
  bool asks_stream_usage_;  // this stream adds stream_options.include_usage upstream
  bool refuses_stream_options_ = false;
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
  // Opens an OpenAiCompatibleCall; subclasses open their own.
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;

  const OpenAiCompatibleSpec& spec() const { return spec_; }

 private:
  OpenAiCompatibleSpec spec_;
};

// The table of all OpenAI-compatible providers (providers/openai_compatible/provider_table.cpp).
std::span<const OpenAiCompatibleSpec> openAiCompatibleSpecs();

}  // namespace portico::providers
