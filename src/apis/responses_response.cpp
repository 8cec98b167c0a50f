#include <chrono>

#include "apis/responses_api.hpp"
#include "apis/responses_detail.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::apis::responses {

using nlohmann::json;

namespace detail {
namespace {

// request[key] when it is of an accepted kind, else `fallback`.
json echo(const json& request, const char* key, bool (json::*accepts)() const, json fallback) {
  auto it = request.find(key);
  return it != request.end() && ((*it).*accepts)() ? *it : fallback;
}

json echoedReasoning(const json& request) {
  json reasoning = {{"effort", nullptr}, {"summary", nullptr}};
  auto it = request.find("reasoning");
  if (it != request.end() && it->is_object()) {
    reasoning["effort"] = echo(*it, "effort", &json::is_string, nullptr);
    reasoning["summary"] = echo(*it, "summary", &json::is_string, nullptr);
  }
  return reasoning;
}

json echoedText(const json& request) {
  auto it = request.find("text");
  if (it != request.end() && it->is_object()) {
    auto format = it->find("format");
    if (format != it->end() && format->is_object()) {
      return {{"format", *format}};
    }
  }
  return {{"format", {{"type", "text"}}}};
}

// "auto", "none", "required" or {type: "function", name}, as the client sent it.
json echoedToolChoice(const json& request) {
  auto it = request.find("tool_choice");
  if (it != request.end() && (it->is_string() || it->is_object())) {
    return *it;
  }
  return "auto";
}

// The tools as the client sent them (only function tools get this far).
json echoedTools(const json& request) {
  json tools = json::array();
  auto it = request.find("tools");
  if (it == request.end() || !it->is_array()) {
    return tools;
  }
  for (const json& tool : *it) {
    if (tool.is_object()) {
      tools.push_back(tool);
    }
  }
  return tools;
}

}  // namespace

json responseObject(std::string_view id,
                    long long created_at,
                    std::string_view model,
                    std::string_view status,
                    const json& request) {
  static const json kNoRequest = json::object();
  const json& body = request.is_object() ? request : kNoRequest;  // a reference, not a copy
  return {
      {"id", id},
      {"object", "response"},
      {"created_at", created_at},
      {"status", status},
      {"background", false},
      {"error", nullptr},
      {"incomplete_details", nullptr},
      {"instructions", echo(body, "instructions", &json::is_string, nullptr)},
      {"max_output_tokens", echo(body, "max_output_tokens", &json::is_number_integer, nullptr)},
      {"metadata", echo(body, "metadata", &json::is_object, json::object())},
      {"model", model},
      {"output", json::array()},
      {"parallel_tool_calls", echo(body, "parallel_tool_calls", &json::is_boolean, true)},
      {"previous_response_id", nullptr},
      {"reasoning", echoedReasoning(body)},
      {"store", false},
      {"temperature", echo(body, "temperature", &json::is_number, nullptr)},
      {"text", echoedText(body)},
      {"tool_choice", echoedToolChoice(body)},
      {"tools", echoedTools(body)},
      {"top_p", echo(body, "top_p", &json::is_number, nullptr)},
      {"truncation", "disabled"},
      {"usage", nullptr},
      {"user", echo(body, "user", &json::is_string, nullptr)},
  };
}

json usageObject(const std::optional<Usage>& usage) {
  const Usage counted = usage.value_or(Usage{});
  const std::int64_t input = counted.prompt_tokens.value_or(0);
  const std::int64_t output = counted.completion_tokens.value_or(0);
  return {
      {"input_tokens", input},
      {"input_tokens_details", {{"cached_tokens", counted.cached_tokens.value_or(0)}}},
      {"output_tokens", output},
      {"output_tokens_details", {{"reasoning_tokens", counted.reasoning_tokens.value_or(0)}}},
      {"total_tokens", input + output},
  };
}

json incompleteDetails(const json& finish_reason) {
  if (finish_reason == "length") {
    return {{"reason", "max_output_tokens"}};
  }
  if (finish_reason == "content_filter") {
    return {{"reason", "content_filter"}};
  }
  return nullptr;
}

std::string stringOr(const json& object, const char* key, std::string fallback) {
  if (object.is_object()) {
    auto it = object.find(key);
    if (it != object.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return fallback;
}

}  // namespace detail

namespace {

// The assistant's text: a string, or the text parts of an array joined.
std::string contentText(const json& content) {
  if (content.is_string()) {
    return content.get<std::string>();
  }
  std::string text;
  if (content.is_array()) {
    for (const json& part : content) {
      if (part.is_object() && part.value("type", json()) == "text") {
        text += detail::stringOr(part, "text");
      }
    }
  }
  return text;
}

// Chat providers put their reasoning text in `reasoning_content` (some in `reasoning`).
std::string reasoningText(const json& message) {
  std::string text = detail::stringOr(message, "reasoning_content");
  return text.empty() ? detail::stringOr(message, "reasoning") : text;
}

json reasoningItem(const std::string& text) {
  return {{"type", "reasoning"},
          {"id", openai::newId("rs_")},
          {"summary", json::array({{{"type", "summary_text"}, {"text", text}}})}};
}

json messageItem(const std::string& text, const std::string& refusal) {
  json content = json::array();
  if (!text.empty() || refusal.empty()) {
    content.push_back({{"type", "output_text"}, {"text", text}, {"annotations", json::array()}});
  }
  if (!refusal.empty()) {
    content.push_back({{"type", "refusal"}, {"refusal", refusal}});
  }
  return {{"type", "message"},
          {"id", openai::newId("msg_")},
          {"status", "completed"},
          {"role", "assistant"},
          {"content", std::move(content)}};
}

// A chat tool call as a function_call item; nothing for calls that are not functions.
std::optional<json> functionCallItem(const json& call) {
  if (!call.is_object() || call.value("type", json("function")) != "function") {
    return std::nullopt;
  }
  const json function = call.value("function", json::object());
  if (!function.is_object()) {
    return std::nullopt;
  }
  const auto arguments = function.find("arguments");
  std::string args = "{}";
  if (arguments != function.end() && arguments->is_string()) {
    args = arguments->get<std::string>();
  } else if (arguments != function.end() && arguments->is_object()) {
    args = arguments->dump();  // some providers send the arguments as an object
  }
  return json{{"type", "function_call"},
              {"id", openai::newId("fc_")},
              {"call_id", detail::stringOr(call, "id", openai::newId("call_"))},
              {"name", detail::stringOr(function, "name")},
              {"arguments", std::move(args)},
              {"status", "completed"}};
}

json outputItems(const json& message) {
  json output = json::array();
  if (!message.is_object()) {
    return output;
  }
  if (const std::string reasoning = reasoningText(message); !reasoning.empty()) {
    output.push_back(reasoningItem(reasoning));
  }
  json calls = json::array();
  if (auto it = message.find("tool_calls"); it != message.end() && it->is_array()) {
    for (const json& call : *it) {
      if (auto item = functionCallItem(call)) {
        calls.push_back(std::move(*item));
      }
    }
  }
  const std::string text = contentText(message.value("content", json()));
  const std::string refusal = detail::stringOr(message, "refusal");
  // A plain answer always has its message, even an empty one; a tool call answer only with text.
  if (!text.empty() || !refusal.empty() || calls.empty()) {
    output.push_back(messageItem(text, refusal));
  }
  for (json& call : calls) {
    output.push_back(std::move(call));
  }
  return output;
}

const json kNull;

long long createdAt(const json& chat) {
  auto it = chat.find("created");
  if (it != chat.end() && it->is_number_integer()) {
    return it->get<long long>();
  }
  return openai::unixSeconds(std::chrono::system_clock::now());
}

}  // namespace

json fromChatResponse(const json& chat, const json& request) {
  const std::string model = detail::stringOr(chat, "model", detail::stringOr(request, "model"));
  json response =
      detail::responseObject(openai::newId("resp_"), createdAt(chat), model, "completed", request);
  const json& choices = member(chat, "choices");
  const json& choice = choices.is_array() && !choices.empty() ? choices.front() : kNull;
  response["output"] = outputItems(member(choice, "message"));
  const json incomplete = detail::incompleteDetails(member(choice, "finish_reason"));
  if (!incomplete.is_null()) {
    response["status"] = "incomplete";
    response["incomplete_details"] = incomplete;
  }
  response["usage"] = detail::usageObject(usageFromOpenAi(member(chat, "usage")));
  return response;
}

}  // namespace portico::apis::responses
