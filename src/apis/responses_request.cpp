#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "apis/responses_api.hpp"

namespace portico::apis::responses {

using nlohmann::json;

namespace {

// Nothing, or the 400 that ends the mapping.
using Problem = std::optional<GatewayError>;

GatewayError bad(std::string message) { return errors::failure(400, std::move(message)); }

const json* field(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// Features that need state kept between requests: Portico keeps none, so the client must send
// what they would have recalled.
Problem refuseStateful(const json& body) {
  constexpr const char* kStateless = ": Portico serves this provider statelessly";
  if (field(body, "previous_response_id")) {
    return bad(std::string("previous_response_id is not supported") + kStateless +
               " (no stored responses); send the earlier items in input");
  }
  if (body.value("store", json()) == true) {
    return bad(std::string("store: true is not supported") + kStateless +
               "; send store: false (or leave it out)");
  }
  if (field(body, "conversation")) {
    return bad(std::string("conversation is not supported") + kStateless +
               " (no stored conversations); send the earlier items in input");
  }
  if (body.value("background", json()) == true) {
    return bad(std::string("background: true is not supported") + kStateless +
               " (no stored responses to poll)");
  }
  if (field(body, "prompt")) {
    return bad(std::string("prompt (a stored prompt template) is not supported") + kStateless +
               "; send instructions and input instead");
  }
  return std::nullopt;
}

// The string at part[key], or a 400 naming `what`.
Expected<std::string> requiredString(const json& object, const char* key, std::string_view what) {
  const json* value = field(object, key);
  if (!value || !value->is_string()) {
    return bad(std::string(what) + " needs a string " + key);
  }
  return value->get<std::string>();
}

std::string typeOf(const json& object) {
  auto it = object.find("type");
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool isTextPart(const std::string& type) {
  return type == "input_text" || type == "output_text" || type == "refusal";
}

Expected<std::string> partText(const json& part, const std::string& type) {
  return requiredString(part, type == "refusal" ? "refusal" : "text", type + " parts");
}

Expected<json> imagePart(const json& part) {
  if (field(part, "file_id")) {
    return bad(
        "input_image with file_id needs stored files, which Portico does not keep; "
        "send image_url (a URL or a data: URL)");
  }
  auto url = requiredString(part, "image_url", "input_image parts");
  if (!url) {
    return url.error();
  }
  json image = {{"url", *url}};
  if (const json* detail = field(part, "detail"); detail && detail->is_string()) {
    image["detail"] = *detail;
  }
  return json{{"type", "image_url"}, {"image_url", std::move(image)}};
}

Expected<json> filePart(const json& part) {
  if (field(part, "file_id") || field(part, "file_url")) {
    return bad(
        "input_file with file_id or file_url is not supported: Portico serves this "
        "provider statelessly; send file_data (base64) and filename");
  }
  auto data = requiredString(part, "file_data", "input_file parts");
  if (!data) {
    return data.error();
  }
  json file = {{"file_data", *data}};
  if (const json* name = field(part, "filename"); name && name->is_string()) {
    file["filename"] = *name;
  }
  return json{{"type", "file"}, {"file", std::move(file)}};
}

// One content part of a user message as a chat content part.
Expected<json> userPart(const json& part) {
  if (!part.is_object()) {
    return bad("message content parts must be objects");
  }
  const std::string type = typeOf(part);
  if (isTextPart(type)) {
    auto text = partText(part, type);
    if (!text) {
      return text.error();
    }
    return json{{"type", "text"}, {"text", *text}};
  }
  if (type == "input_image") {
    return imagePart(part);
  }
  if (type == "input_file") {
    return filePart(part);
  }
  return bad("content parts of type '" + type + "' are not supported for this provider");
}

// The text parts of `content` joined (assistant, system and tool content is text in chat).
Expected<std::string> joinedText(const json& content, std::string_view role) {
  std::string text;
  for (const json& part : content) {
    const std::string type = part.is_object() ? typeOf(part) : std::string();
    if (!isTextPart(type)) {
      return bad(std::string(role) + " content takes only text parts, not '" + type + "'");
    }
    auto piece = partText(part, type);
    if (!piece) {
      return piece.error();
    }
    text += *piece;
  }
  return text;
}

Expected<json> userContent(const json& content) {
  json parts = json::array();
  for (const json& part : content) {
    auto mapped = userPart(part);
    if (!mapped) {
      return mapped.error();
    }
    parts.push_back(std::move(*mapped));
  }
  return parts;
}

Expected<json> messageItem(const json& item) {
  const json* role = field(item, "role");
  static constexpr std::array<const char*, 4> kRoles = {"user", "assistant", "system", "developer"};
  if (!role || !role->is_string() ||
      std::find(kRoles.begin(), kRoles.end(), role->get<std::string>()) == kRoles.end()) {
    return bad("message items need a role of user, assistant, system or developer");
  }
  const std::string chat_role = *role == "developer" ? "system" : role->get<std::string>();
  const json* content = field(item, "content");
  if (!content || !(content->is_string() || content->is_array())) {
    return bad("message items need content: a string or an array of parts");
  }
  json message = {{"role", chat_role}};
  if (content->is_string()) {
    message["content"] = *content;
  } else if (chat_role == "user") {
    auto parts = userContent(*content);
    if (!parts) {
      return parts.error();
    }
    message["content"] = std::move(*parts);
  } else {
    auto text = joinedText(*content, chat_role);
    if (!text) {
      return text.error();
    }
    message["content"] = std::move(*text);
  }
  return message;
}

Expected<json> toolCall(const json& item) {
  auto call_id = requiredString(item, "call_id", "function_call items");
  if (!call_id) {
    return call_id.error();
  }
  auto name = requiredString(item, "name", "function_call items");
  if (!name) {
    return name.error();
  }
  std::string arguments = "{}";
  if (const json* given = field(item, "arguments")) {
    if (!given->is_string()) {
      return bad("function_call items need a string arguments");
    }
    arguments = given->get<std::string>();
  }
  return json{{"id", *call_id},
              {"type", "function"},
              {"function", {{"name", *name}, {"arguments", std::move(arguments)}}}};
}

// A function call joins the assistant message just before it (its text, or the calls before it):
// chat has one assistant message for a turn's text and all its tool calls.
Problem addToolCall(const json& item, json& messages) {
  auto call = toolCall(item);
  if (!call) {
    return call.error();
  }
  if (messages.empty() || messages.back().value("role", "") != "assistant") {
    messages.push_back({{"role", "assistant"}, {"content", nullptr}});
  }
  json& message = messages.back();
  if (!message.contains("tool_calls")) {
    message["tool_calls"] = json::array();
  }
  message["tool_calls"].push_back(std::move(*call));
  return std::nullopt;
}

Expected<json> toolOutput(const json& item) {
  auto call_id = requiredString(item, "call_id", "function_call_output items");
  if (!call_id) {
    return call_id.error();
  }
  const json* output = field(item, "output");
  std::string content;
  if (output && output->is_string()) {
    content = output->get<std::string>();
  } else if (output && output->is_array()) {
    auto text = joinedText(*output, "function_call_output");
    if (!text) {
      return text.error();
    }
    content = std::move(*text);
  } else {
    return bad("function_call_output items need an output: a string or an array of text parts");
  }
  return json{{"role", "tool"}, {"tool_call_id", *call_id}, {"content", std::move(content)}};
}

// One input item appended to the chat messages.
Problem addItem(const json& item, json& messages) {
  if (!item.is_object()) {
    return bad("input items must be objects");
  }
  const json* type = field(item, "type");
  if (type && !type->is_string()) {
    return bad("input items need a string type");
  }
  const std::string kind = type ? type->get<std::string>() : "message";
  if (kind == "message") {
    auto message = messageItem(item);
    if (!message) {
      return message.error();
    }
    messages.push_back(std::move(*message));
    return std::nullopt;
  }
  if (kind == "function_call") {
    return addToolCall(item, messages);
  }
  if (kind == "function_call_output") {
    auto message = toolOutput(item);
    if (!message) {
      return message.error();
    }
    messages.push_back(std::move(*message));
    return std::nullopt;
  }
  if (kind == "reasoning") {
    return std::nullopt;  // chat has no way to send reasoning back
  }
  if (kind == "item_reference") {
    return bad(
        "item_reference input items need stored responses: Portico serves this provider "
        "statelessly; send the items themselves (and store: false)");
  }
  return bad("input items of type '" + kind + "' are not supported for this provider");
}

Expected<json> messagesOf(const json& body) {
  json messages = json::array();
  if (const json* instructions = field(body, "instructions")) {
    if (!instructions->is_string()) {
      return bad("instructions must be a string");
    }
    messages.push_back({{"role", "system"}, {"content", *instructions}});
  }
  const json* input = field(body, "input");
  if (!input) {
    return bad("input is required: a string or an array of input items");
  }
  if (input->is_string()) {
    messages.push_back({{"role", "user"}, {"content", *input}});
  } else if (input->is_array()) {
    for (const json& item : *input) {
      if (Problem problem = addItem(item, messages)) {
        return *problem;
      }
    }
  } else {
    return bad("input must be a string or an array of input items");
  }
  if (messages.empty()) {
    return bad("input has no messages");
  }
  return messages;
}

Expected<json> chatTool(const json& tool) {
  if (!tool.is_object()) {
    return bad("tools must be objects");
  }
  const std::string type = typeOf(tool);
  if (type != "function") {
    return bad((type.empty() ? std::string("untyped") : type) +
               " tools are not supported for this provider");
  }
  auto name = requiredString(tool, "name", "function tools");
  if (!name) {
    return name.error();
  }
  json function = {{"name", *name}};
  for (const char* key : {"description", "parameters", "strict"}) {
    if (const json* value = field(tool, key)) {
      function[key] = *value;
    }
  }
  return json{{"type", "function"}, {"function", std::move(function)}};
}

Problem mapTools(const json& body, json& chat) {
  const json* tools = field(body, "tools");
  if (!tools) {
    return std::nullopt;
  }
  if (!tools->is_array()) {
    return bad("tools must be an array");
  }
  json mapped = json::array();
  for (const json& tool : *tools) {
    auto function = chatTool(tool);
    if (!function) {
      return function.error();
    }
    mapped.push_back(std::move(*function));
  }
  if (!mapped.empty()) {
    chat["tools"] = std::move(mapped);
  }
  return std::nullopt;
}

Problem mapToolChoice(const json& body, json& chat) {
  const json* choice = field(body, "tool_choice");
  if (!choice) {
    return std::nullopt;
  }
  if (*choice == "auto" || *choice == "none" || *choice == "required") {
    if (chat.contains("tools")) {  // chat providers refuse a tool_choice without tools
      chat["tool_choice"] = *choice;
    }
    return std::nullopt;
  }
  if (choice->is_object() && typeOf(*choice) == "function") {
    auto name = requiredString(*choice, "name", "tool_choice");
    if (!name) {
      return name.error();
    }
    chat["tool_choice"] = {{"type", "function"}, {"function", {{"name", *name}}}};
    return std::nullopt;
  }
  return bad("tool_choice must be auto, none, required or {type: function, name}");
}

// Copies body[key] to chat[chat_key] when it passes `accepts`; a 400 for another type.
Problem copyTyped(const json& body,
                  const char* key,
                  bool (json::*accepts)() const,
                  const char* kind,
                  json& chat,
                  const char* chat_key) {
  const json* value = field(body, key);
  if (!value) {
    return std::nullopt;
  }
  if (!(value->*accepts)()) {
    return bad(std::string(key) + " must be " + kind);
  }
  chat[chat_key] = *value;
  return std::nullopt;
}

Problem mapSampling(const json& body, json& chat) {
  for (const char* key : {"temperature", "top_p"}) {
    if (Problem problem = copyTyped(body, key, &json::is_number, "a number", chat, key)) {
      return problem;
    }
  }
  if (Problem problem = copyTyped(body, "user", &json::is_string, "a string", chat, "user")) {
    return problem;
  }
  if (Problem problem = copyTyped(body, "max_output_tokens", &json::is_number_integer, "an integer",
                                  chat, "max_tokens")) {
    return problem;
  }
  if (Problem problem = copyTyped(body, "top_logprobs", &json::is_number_integer, "an integer",
                                  chat, "top_logprobs")) {
    return problem;
  }
  if (chat.contains("top_logprobs")) {
    chat["logprobs"] = true;
  }
  // Chat refuses parallel_tool_calls without tools.
  if (chat.contains("tools")) {
    return copyTyped(body, "parallel_tool_calls", &json::is_boolean, "a boolean", chat,
                     "parallel_tool_calls");
  }
  return std::nullopt;
}

Problem mapReasoning(const json& body, json& chat) {
  const json* reasoning = field(body, "reasoning");
  if (!reasoning) {
    return std::nullopt;
  }
  if (!reasoning->is_object()) {
    return bad("reasoning must be an object");
  }
  // The summary setting has no chat equivalent; the provider's reasoning text comes back anyway.
  return copyTyped(*reasoning, "effort", &json::is_string, "a string", chat, "reasoning_effort");
}

Problem mapTextFormat(const json& body, json& chat) {
  const json* text = field(body, "text");
  if (!text) {
    return std::nullopt;
  }
  const json* format = text->is_object() ? field(*text, "format") : nullptr;
  if (!format) {
    return text->is_object() ? Problem() : bad("text must be an object");
  }
  const std::string type = format->is_object() ? typeOf(*format) : std::string();
  if (type == "text") {
    return std::nullopt;
  }
  if (type == "json_object") {
    chat["response_format"] = {{"type", "json_object"}};
    return std::nullopt;
  }
  if (type != "json_schema") {
    return bad("text.format must be of type text, json_object or json_schema");
  }
  auto name = requiredString(*format, "name", "text.format json_schema");
  if (!name) {
    return name.error();
  }
  json schema = {{"name", *name}};
  for (const char* key : {"schema", "strict", "description"}) {
    if (const json* value = field(*format, key)) {
      schema[key] = *value;
    }
  }
  chat["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(schema)}};
  return std::nullopt;
}

Problem mapStream(const json& body, json& chat) {
  const json* stream = field(body, "stream");
  if (!stream) {
    return std::nullopt;
  }
  if (!stream->is_boolean()) {
    return bad("stream must be a boolean");
  }
  chat["stream"] = *stream;
  if (*stream == true) {
    // The final usage chunk is what response.completed reports.
    chat["stream_options"] = {{"include_usage", true}};
  }
  return std::nullopt;
}

}  // namespace

Expected<json> toChatRequest(const json& body) {
  if (!body.is_object()) {
    return bad("the Responses request body must be a JSON object");
  }
  if (Problem problem = refuseStateful(body)) {
    return *problem;
  }
  json chat = json::object();
  if (Problem problem = copyTyped(body, "model", &json::is_string, "a string", chat, "model")) {
    return *problem;
  }
  auto messages = messagesOf(body);
  if (!messages) {
    return messages.error();
  }
  chat["messages"] = std::move(*messages);
  for (auto step : {mapStream, mapTools, mapToolChoice, mapSampling, mapReasoning, mapTextFormat}) {
    if (Problem problem = step(body, chat)) {
      return *problem;
    }
  }
  // Dropped: metadata and service_tier (no chat meaning here), include, truncation, store: false.
  return chat;
}

}  // namespace portico::apis::responses
