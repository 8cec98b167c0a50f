#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aws_sigv4.hpp"
#include "portico/provider_adapter.hpp"

namespace portico::providers {

// AWS Bedrock: chat through the Converse API (/model/{id}/converse and /converse-stream, binary
// event-stream answers), embeddings through InvokeModel (Titan and Cohere embedding models),
// and /v1/* passthrough, all signed with SigV4 (service "bedrock") or sent with a Bedrock API
// key as Bearer when aws_auth_type is "apiKey". Each request is served by a BedrockCall
// (bedrock_call.hpp) that open() makes.
class BedrockAdapter : public ProviderAdapter {
 public:
  std::string_view id() const override { return "bedrock"; }
  bool supports(Endpoint endpoint) const override;
  // Anthropic's Messages API goes as it is (InvokeModel) to Claude models only; the gateway
  // translates it through Converse for the others.
  bool servesNatively(Endpoint endpoint, std::string_view model) const override;
  // Declared in bedrock_settings.cpp.
  const ProviderSettings& settings() const override;
  // Fails (400) when the target's aws_region cannot be a host name label.
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
};

// A target's Bedrock settings, read once per call from its options (config fields or
// x-portkey-* headers).
struct BedrockSettings {
  std::string region;            // aws_region, "us-east-1" when unset; only [a-z0-9-]
  bool api_key_auth = false;     // aws_auth_type is "apiKey": Bearer target.api_key, no SigV4
  std::string api_key;           // the target's api_key
  aws::Credentials credentials;  // aws_access_key_id, aws_secret_access_key, aws_session_token
  std::string anthropic_beta;    // comma-separated, for Anthropic models

  // Fails (400 "invalid aws_region") when the region could not be part of a host name.
  static Expected<BedrockSettings> read(const Target& target);
};

// The pieces of the adapter, exposed for unit tests.
namespace bedrock {

// What a model id says about the body and the calls it takes.
enum class ModelFamily {
  kAnthropic,    // "anthropic." anywhere (also inference profiles): takes anthropic_beta
  kTitanEmbed,   // "amazon.titan-embed": one input per InvokeModel call
  kCohereEmbed,  // "cohere.embed": a batch of texts per call
  kOther,
};
ModelFamily modelFamily(std::string_view model);

// "https://bedrock-runtime.<region>.amazonaws.com".
std::string baseUrl(std::string_view region);

// "/model/<percent-encoded model id>/<action>".
std::string modelPath(std::string_view model, std::string_view action);

// OpenAI chat body -> Converse body (no model: it is in the URL). Fails with a 400 on shapes
// Bedrock cannot take (remote image URLs, tool arguments that are not JSON, unknown roles).
Expected<nlohmann::json> toConverseBody(const nlohmann::json& body,
                                        ModelFamily family,
                                        const BedrockSettings& settings);

// Converse stopReason -> OpenAI finish_reason.
std::string finishReason(std::string_view stop_reason);

// Converse usage -> OpenAI usage (prompt_tokens include cache reads and writes; cached_tokens
// is cacheReadInputTokens).
nlohmann::json usage(const nlohmann::json& converse_usage);

// The token counts of a Converse answer (its usage object, as usage() maps it), for the
// gateway's observers; nullopt when it has none.
std::optional<Usage> converseUsage(const nlohmann::json& converse);

// Converse answer -> chat.completion. Fails (502) when the answer has no output message.
Expected<nlohmann::json> fromConverseResponse(const nlohmann::json& converse,
                                              std::string_view id,
                                              std::string_view model,
                                              long long created,
                                              bool strict);

// AWS error body (and status) -> the normalised OpenAI error.
MappedResponse mapError(const UpstreamReply& reply);

// OpenAI embeddings body -> InvokeModel body for the model's family (`model` names it in
// errors).
Expected<nlohmann::json> toEmbedBody(const nlohmann::json& body,
                                     ModelFamily family,
                                     std::string_view model);

// InvokeModel embedding answer -> OpenAI list.
Expected<nlohmann::json> fromEmbedResponse(const nlohmann::json& upstream, std::string_view model);

// The token counts of an InvokeModel embedding answer: Titan's inputTextTokenCount as
// prompt_tokens; nullopt for Cohere's, which carry none.
std::optional<Usage> embedUsage(const nlohmann::json& upstream);

// Titan's one-input-per-call rule: the bodies to send in place of `body` (one per input), or
// none when it goes as it is.
std::vector<nlohmann::json> splitEmbedRequest(const nlohmann::json& body, ModelFamily family);

// The split parts' OpenAI lists joined into one, in input order.
MappedResponse joinEmbedResponses(std::vector<MappedResponse> parts, std::string_view model);

// The converse-stream translator (event-stream -> OpenAI chat.completion.chunk SSE). `id` is
// the chunks' id; the model, `created` and include_usage come from the request.
std::unique_ptr<StreamTransformer> makeChatStream(const ClientRequest& request,
                                                  bool strict,
                                                  std::string id);

// A fresh chat completion id.
std::string newCompletionId();

// ---- Anthropic's Messages API on Claude models (bedrock_messages.cpp) ----

// Whether `model` is a Claude model id or inference profile ("anthropic." in it), which takes
// Anthropic's own request and answer through InvokeModel. An application inference profile ARN
// does not say what it serves, so it counts only when it names anthropic.
bool isClaudeModel(std::string_view model);

// The action of a Messages request: "invoke", or "invoke-with-response-stream" when streamed.
std::string_view messagesAction(bool stream);

// A Messages body -> InvokeModel's body for Claude: without model and stream (the URL and the
// action say them), with Bedrock's anthropic_version and, when `beta` (a comma list) names any,
// anthropic_beta as an array.
nlohmann::json toMessagesBody(const nlohmann::json& body, std::string_view beta);

// InvokeModel's answer for a Messages request: a 2xx is Anthropic's message, passed on unchanged
// with its usage read; an error becomes Anthropic's error shape with the status kept.
MappedResponse mapMessagesResponse(UpstreamReply reply);

// invoke-with-response-stream (event-stream frames whose chunks carry Anthropic's stream events
// in base64) -> Anthropic's SSE; exceptions and broken streams end with Anthropic's error event.
std::unique_ptr<StreamTransformer> makeMessagesStream();

}  // namespace bedrock

}  // namespace portico::providers
