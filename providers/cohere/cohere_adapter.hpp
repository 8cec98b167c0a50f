#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

// The target's Cohere settings, read once from Target::options.
struct CohereSettings {
  // input_type (or cohere_input_type) for embeddings whose body names none.
  std::string input_type;

  static CohereSettings read(const Target& target);
};

// Cohere's own v2 API (https://api.cohere.com): chat at /v2/chat, embeddings at /v2/embed,
// Bearer auth. Requests, answers, streams and errors are translated to and from OpenAI's format.
class CohereAdapter : public ProviderAdapter {
 public:
  static constexpr std::string_view kBaseUrl = "https://api.cohere.com";

  std::string_view id() const override { return "cohere"; }
  bool supports(Endpoint endpoint) const override;
  // Declared in cohere_settings.cpp.
  const ProviderSettings& settings() const override;
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
};

// OpenAI chat body -> Cohere v2 chat body. Fails (400) on input Cohere cannot take. May throw
// json::exception on a field of the wrong type.
Expected<nlohmann::json> toCohereChatBody(const nlohmann::json& body);

// OpenAI embeddings body -> Cohere v2 embed body. Fails (400) on input Cohere cannot take.
Expected<nlohmann::json> toCohereEmbedBody(const nlohmann::json& body,
                                           const CohereSettings& settings);

// A 2xx Cohere v2 chat answer (parsed) -> OpenAI's chat.completion, with its usage. May throw
// json::exception on a member of the wrong type.
MappedResponse cohereChatResponse(const ClientRequest& request,
                                  const Target& target,
                                  const nlohmann::json& answer);

// A 2xx Cohere v2 embed answer (parsed) -> OpenAI's embedding list, with its usage.
MappedResponse cohereEmbedResponse(const ClientRequest& request, const nlohmann::json& answer);

// The 502 (or the upstream's non-2xx status) for an answer the gateway cannot read.
MappedResponse cohereInvalidResponse(int status, std::string_view body);

// Cohere's finish_reason in OpenAI's terms (strict) or as sent (not strict).
std::string mapCohereFinishReason(std::string_view reason, bool strict);

// OpenAI usage from Cohere's usage object: usage.tokens (what the model saw), else
// usage.billed_units; null when neither is there.
nlohmann::json cohereUsageToOpenAi(const nlohmann::json& usage);

// The gateway's counts from the same object (tokens, else billed_units); nullopt when neither.
std::optional<Usage> cohereUsage(const nlohmann::json& usage);

// Turns Cohere's v2 chat SSE (message-start ... message-end) into chat.completion.chunk SSE.
std::unique_ptr<StreamTransformer> makeCohereChatStream(const ClientRequest& request,
                                                        const Target& target);

}  // namespace portico::providers
