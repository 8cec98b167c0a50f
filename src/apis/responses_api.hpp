#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "portico/error.hpp"
#include "portico/provider_adapter.hpp"

// OpenAI's Responses API (POST /v1/responses) served by any provider that has chat completions:
// the request becomes a chat request, the chat answer (complete or streamed) becomes a Responses
// answer. Stateless: nothing is stored, so what needs a stored response is refused with a 400.
namespace portico::apis::responses {

// The client's Responses body as a chat completions body (for the provider's chat mapping).
// A 400 (errors::failure) for what cannot be served statelessly or has no chat equivalent:
// previous_response_id, store: true, conversation, background, item_reference input items,
// built-in tools (web_search, file_search, ...).
Expected<nlohmann::json> toChatRequest(const nlohmann::json& body);

// A 2xx chat.completion object as a Responses `response` object; `request` is the client's
// Responses body (its instructions, tools, temperature... are echoed as OpenAI does).
nlohmann::json fromChatResponse(const nlohmann::json& chat, const nlohmann::json& request);

// The stream for a streamed request: chat.completion.chunk events (from `inner`, or the upstream
// bytes themselves when `inner` is null) become Responses events (response.created ...
// response.completed, or response.failed / error).
std::unique_ptr<StreamTransformer> streamFromChat(const nlohmann::json& request,
                                                  std::unique_ptr<StreamTransformer> inner);

}  // namespace portico::apis::responses
