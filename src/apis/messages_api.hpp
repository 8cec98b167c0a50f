#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "portico/error.hpp"
#include "portico/provider_adapter.hpp"

// Anthropic's Messages API (POST /v1/messages) served by any provider that has chat completions:
// the request becomes a chat request, the chat answer (complete or streamed) becomes a Messages
// answer, and errors take Anthropic's shape.
namespace portico::apis::messages {

// The client's Messages body as a chat completions body. A 400 (errors::failure) for a body
// that is not a Messages request (no messages array, a block of an unknown type, ...).
Expected<nlohmann::json> toChatRequest(const nlohmann::json& body);

// A 2xx chat.completion object as a Messages `message` object; `request` is the client's body.
nlohmann::json fromChatResponse(const nlohmann::json& chat, const nlohmann::json& request);

// A non-2xx answer's body (OpenAI-shaped, Portkey-shaped, or anything else) in Anthropic's shape:
// {"type":"error","error":{"type":<from the status>,"message":...}}.
nlohmann::json errorFromChat(int status, std::string_view body);

// The stream for a streamed request: chat.completion.chunk events (from `inner`, or the upstream
// bytes themselves when `inner` is null) become Anthropic's events (message_start,
// content_block_start/delta/stop, message_delta, message_stop; `error` on failure).
std::unique_ptr<StreamTransformer> streamFromChat(const nlohmann::json& request,
                                                  std::unique_ptr<StreamTransformer> inner);

}  // namespace portico::apis::messages
