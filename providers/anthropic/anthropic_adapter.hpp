#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

// Anthropic's Messages API requires max_tokens; OpenAI clients usually omit it. Used when the
// request has neither max_tokens nor max_completion_tokens, unless the target sets
// `default_max_tokens` (config field, or header x-portkey-default-max-tokens).
inline constexpr std::int64_t kDefaultMaxTokens = 4096;
inline constexpr std::string_view kAnthropicBaseUrl = "https://api.anthropic.com/v1";
inline constexpr std::string_view kDefaultAnthropicVersion = "2023-06-01";

// The `anthropic` provider: /v1/chat/completions is translated to and from the Messages API
// (answers, SSE streams and errors); /v1/messages and /v1/* passthrough speak Anthropic's own
// format and are relayed unchanged.
class AnthropicAdapter : public ProviderAdapter {
 public:
  std::string_view id() const override { return "anthropic"; }
  bool supports(Endpoint endpoint) const override;
  Expected<UpstreamRequest> buildRequest(const ClientRequest& request,
                                         const Target& target) const override;
  MappedResponse mapResponse(const ClientRequest& request,
                             const Target& target,
                             UpstreamReply reply) const override;
  std::unique_ptr<StreamTransformer> makeStreamTransformer(const ClientRequest& request,
                                                           const Target& target) const override;
};

// OpenAI chat body -> Anthropic Messages body. Fails (400) on a body that is not an object or
// an invalid default_max_tokens option. Exposed for unit tests.
Expected<nlohmann::json> anthropicChatBody(const nlohmann::json& body, const Target& target);

// Anthropic stop_reason -> OpenAI finish_reason (strict), or the raw value when not strict.
nlohmann::json anthropicFinishReason(const nlohmann::json& stop_reason, bool strict);

// Anthropic usage -> OpenAI usage (prompt_tokens include cache reads and writes).
nlohmann::json anthropicUsage(const nlohmann::json& usage);

// The per-request SSE translator for /v1/chat/completions streams.
std::unique_ptr<StreamTransformer> makeAnthropicChatStream(const ClientRequest& request,
                                                           const Target& target);

}  // namespace portico::providers
