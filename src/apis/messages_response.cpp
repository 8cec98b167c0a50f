// OpenAI chat.completion -> Anthropic Messages `message`, and errors in Anthropic's shape.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "apis/messages_api.hpp"
#include "apis/messages_detail.hpp"
#include "portico/anthropic_errors.hpp"
#include "portico/encoding.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::apis::messages {

using nlohmann::json;

namespace detail {

std::string stopReason(const json& finish_reason, bool called_tools) {
  if (called_tools && (finish_reason.is_null() || finish_reason == "stop")) {
    return "tool_use";  // some upstreams say "stop" beside tool calls; agents loop on tool_use
  }
  if (finish_reason == "length") {
    return "max_tokens";
  }
  if (finish_reason == "tool_calls" || finish_reason == "function_call") {
    return "tool_use";
  }
  if (finish_reason == "content_filter") {
    return "refusal";
  }
  // "stop" is end_turn even when the request had stop_sequences: chat does not say whether a
  // stop sequence or the model ended the turn, nor which sequence it was.
  return "end_turn";
}

std::string errorTypeFromChat(const json& error) {
  std::string kind;
  for (const char* key : {"type", "code"}) {
    if (auto it = error.find(key); it != error.end() && it->is_string()) {
      kind += it->get<std::string>() + " ";
    }
  }
  auto has = [&kind](std::string_view word) { return kind.find(word) != std::string::npos; };
  // Substrings, so Anthropic's own names (a provider may pass them on) map to themselves.
  if (has("rate_limit") || has("insufficient_quota")) return "rate_limit_error";
  if (has("overloaded")) return "overloaded_error";
  if (has("authentication") || has("invalid_api_key")) return "authentication_error";
  if (has("permission")) return "permission_error";
  if (has("not_found")) return "not_found_error";
  if (has("too_large")) return "request_too_large";
  if (has("invalid_request")) return "invalid_request_error";
  return "api_error";
}

json usageJson(const std::optional<Usage>& usage) {
  const std::int64_t prompt = usage ? usage->prompt_tokens.value_or(0) : 0;
  const std::int64_t cached = usage ? usage->cached_tokens.value_or(0) : 0;
  const std::int64_t output = usage ? usage->completion_tokens.value_or(0) : 0;
  return {{"input_tokens", std::max<std::int64_t>(prompt - cached, 0)},
          {"output_tokens", output},
          {"cache_read_input_tokens", cached},
          {"cache_creation_input_tokens", 0}};
}

}  // namespace detail

namespace {

// A chat tool call as a tool_use block. Anthropic's input is an object: arguments that are
// not a JSON object (a model's broken JSON) become {}.
json toolUseBlock(const json& call) {
  const json& function = member(call, "function");
  const json& arguments = member(function, "arguments");
  json input = arguments.is_string() ? parseJson(arguments.get<std::string>()) : arguments;
  if (!input.is_object()) {
    input = json::object();
  }
  const json& id = member(call, "id");
  const json& name = member(function, "name");
  return {{"type", "tool_use"},
          {"id", id.is_string() ? id : json(openai::newId("toolu_"))},
          {"name", name.is_string() ? name : json("")},
          {"input", std::move(input)}};
}

// The message's text: a string, or (some providers) an array of text parts.
std::string messageText(const json& content) {
  if (content.is_string()) {
    return content.get<std::string>();
  }
  std::string text;
  if (!content.is_array()) {
    return text;
  }
  for (const auto& part : content) {
    if (const json& piece = member(part, "text"); piece.is_string()) {
      text += piece.get<std::string>();
    }
  }
  return text;
}

// Reasoning first (Anthropic puts thinking before the answer), then text, then tool calls.
// Chat reasoning has no signature; an empty one marks it as not Anthropic's.
json contentBlocks(const json& message) {
  json blocks = json::array();
  // reasoning_content (DeepSeek, xAI, vLLM) or reasoning (Groq, OpenRouter).
  const json* reasoning = &member(message, "reasoning_content");
  if (!reasoning->is_string()) {
    reasoning = &member(message, "reasoning");
  }
  if (reasoning->is_string() && !reasoning->get_ref<const std::string&>().empty()) {
    blocks.push_back({{"type", "thinking"}, {"thinking", *reasoning}, {"signature", ""}});
  }
  std::string text = messageText(member(message, "content"));
  if (text.empty()) {
    // OpenAI puts a refusal beside a null content; it is the answer's text.
    if (const json& refusal = member(message, "refusal"); refusal.is_string()) {
      text = refusal.get<std::string>();
    }
  }
  if (!text.empty()) {
    blocks.push_back({{"type", "text"}, {"text", std::move(text)}});
  }
  if (const json& calls = member(message, "tool_calls"); calls.is_array()) {
    for (const auto& call : calls) {
      if (call.is_object()) {
        blocks.push_back(toolUseBlock(call));
      }
    }
  }
  return blocks;
}

const json& firstChoice(const json& chat) {
  static const json kNull;
  const json& choices = member(chat, "choices");
  return choices.is_array() && !choices.empty() ? choices[0] : kNull;
}

// The error text of an OpenAI-, Portkey- or otherwise shaped body.
std::string errorMessage(int status, std::string_view body) {
  const json parsed = parseJson(body);
  const json& error = member(parsed, "error");
  if (const json& message = member(error, "message"); message.is_string()) {
    return message.get<std::string>();
  }
  if (error.is_string()) {
    return error.get<std::string>();
  }
  if (const json& message = member(parsed, "message"); message.is_string()) {
    return message.get<std::string>();
  }
  if (!body.empty()) {
    return std::string(utf8Prefix(body, 1000));
  }
  return "The upstream answered with status " + std::to_string(status);
}

}  // namespace

json fromChatResponse(const json& chat, const json& request) {
  const json& choice = firstChoice(chat);
  const json& message = member(choice, "message");
  json model = member(chat, "model");
  if (!model.is_string()) {
    model = member(request, "model").is_string() ? request["model"] : json("");
  }
  json content = contentBlocks(message);
  const bool called_tools = std::any_of(content.begin(), content.end(), [](const json& block) {
    return block.is_object() && block.value("type", "") == "tool_use";
  });
  json stop_reason = detail::stopReason(member(choice, "finish_reason"), called_tools);
  if (member(message, "refusal").is_string() && member(message, "content").is_null()) {
    stop_reason = "refusal";
  }
  return {{"id", openai::newId("msg_")},
          {"type", "message"},
          {"role", "assistant"},
          {"model", std::move(model)},
          {"content", std::move(content)},
          {"stop_reason", std::move(stop_reason)},
          {"stop_sequence", nullptr},
          {"usage", detail::usageJson(usageFromOpenAi(member(chat, "usage")))}};
}

json errorFromChat(int status, std::string_view body) {
  return {{"type", "error"},
          {"error",
           {{"type", std::string(anthropicErrorType(status))},
            {"message", errorMessage(status, body)}}}};
}

}  // namespace portico::apis::messages
