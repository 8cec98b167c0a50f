#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/anthropic_errors.hpp"
#include "portico/provider_adapter.hpp"

namespace portico::providers {

// Anthropic's Messages API requires max_tokens; OpenAI clients usually omit it. Used when the
// request has neither max_tokens nor max_completion_tokens, unless the target sets
// `default_max_tokens` (config field, or header x-portkey-default-max-tokens).
inline constexpr std::int64_t kDefaultMaxTokens = 4096;
inline constexpr std::string_view kAnthropicBaseUrl = "https://api.anthropic.com/v1";
inline constexpr std::string_view kDefaultAnthropicVersion = "2023-06-01";

// The target's Anthropic settings, read once from Target::options.
struct AnthropicSettings {
  std::string version;  // anthropic_version; "" = the client's anthropic-version, else default
  std::string beta;     // anthropic_beta; "" = the client's anthropic-beta, else none
  // default_max_tokens (header string or config number), for bodies without max_tokens.
  std::int64_t default_max_tokens = kDefaultMaxTokens;
  bool default_max_tokens_invalid = false;  // set but not a positive integer (a 400 when used)

  static AnthropicSettings read(const Target& target);
};

// The `anthropic` provider: /v1/chat/completions is translated to and from the Messages API
// (answers, SSE streams and errors); /v1/messages and /v1/* passthrough speak Anthropic's own
// format and are relayed unchanged.
class AnthropicAdapter : public ProviderAdapter {
 public:
  std::string_view id() const override { return "anthropic"; }
  bool supports(Endpoint endpoint) const override;
  bool countsMessageTokens() const override { return true; }  // POST /v1/messages/count_tokens
  // Declared in anthropic_settings.cpp.
  const ProviderSettings& settings() const override;
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
};

// OpenAI chat body -> Anthropic Messages body. Fails (400) on a body that is not an object or
// an invalid default_max_tokens setting. Exposed for unit tests and Claude on other clouds.
Expected<nlohmann::json> anthropicChatBody(const nlohmann::json& body,
                                           const AnthropicSettings& settings);
Expected<nlohmann::json> anthropicChatBody(const nlohmann::json& body, const Target& target);

// Anthropic stop_reason -> OpenAI finish_reason (strict), or the raw value when not strict.
nlohmann::json anthropicFinishReason(const nlohmann::json& stop_reason, bool strict);
// The strict mapping itself, for a stop_reason string.
std::string_view anthropicOpenAiFinishReason(std::string_view reason);

// Anthropic usage -> OpenAI usage (prompt_tokens include cache reads and writes).
nlohmann::json anthropicUsage(const nlohmann::json& usage);

// Anthropic usage -> the gateway's counts: prompt = input + cache reads + cache writes,
// completion = output, cached = cache reads.
Usage anthropicUsageCounts(const nlohmann::json& usage);
// The same sums from Anthropic's four counts; every Anthropic path adds them up here.
Usage anthropicCounts(std::int64_t input,
                      std::int64_t output,
                      std::int64_t cache_read,
                      std::int64_t cache_creation);

// A complete Messages answer (any status) for /v1/chat/completions -> OpenAI's chat.completion,
// or an OpenAI-shaped error. `provider` is the id put on the answer and its errors (Claude on
// Vertex passes "vertex-ai").
MappedResponse anthropicChatResponse(const ClientRequest& request,
                                     const Target& target,
                                     UpstreamReply reply,
                                     std::string_view provider = "anthropic");

// anthropicChatResponse's two ways. The text path writes the common answer (a 2xx whose content
// is text blocks only) without building trees, byte for byte what the tree path writes for it,
// and gives nullopt for anything else; the tree path maps any answer. Declared for the tests
// and the fuzz target that hold the two to each other.
std::optional<MappedResponse> anthropicTextChatResponse(const ClientRequest& request,
                                                        const Target& target,
                                                        const UpstreamReply& reply,
                                                        std::string_view provider);
MappedResponse anthropicTreeChatResponse(const ClientRequest& request,
                                         const Target& target,
                                         UpstreamReply reply,
                                         std::string_view provider);

// The per-request SSE translator for /v1/chat/completions streams; `provider` is the id put on
// every chunk and error event.
std::unique_ptr<StreamTransformer> makeAnthropicChatStream(const ClientRequest& request,
                                                           const Target& target,
                                                           std::string_view provider = "anthropic");

// For /v1/messages streams, relayed to Anthropic-format clients: the events go out as they came
// (each as "event: <name>\ndata: <data>\n\n", Anthropic's own framing), and the usage of
// message_start and message_delta is reported through usage(). A broken stream ends with an
// error event naming `provider`.
std::unique_ptr<StreamTransformer> makeAnthropicMessagesStream(
    std::string_view provider = "anthropic");

// The token counts of a complete Messages answer relayed unchanged (/v1/messages): a 2xx with a
// usage object; nullopt otherwise.
std::optional<Usage> anthropicMessagesUsage(const UpstreamReply& reply);

// {"type":"error","error":{"type":<type>,"message":<message>}}, Anthropic's error body (also
// the data of its stream `error` event).
std::string anthropicErrorJson(std::string_view type, std::string_view message);

// An Anthropic-shaped error answer with `status`, for /v1/messages clients of Claude on other
// clouds (Bedrock, Vertex AI), whose own error bodies Anthropic SDKs cannot read.
MappedResponse anthropicErrorResponse(int status, std::string_view message);

}  // namespace portico::providers
