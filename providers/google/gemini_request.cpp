// OpenAI chat messages -> Gemini contents, systemInstruction and parts.
#include <map>
#include <optional>
#include <string>

#include "google/gemini_json.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/encoding.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers::gemini {

using nlohmann::json;
using namespace detail;

namespace {

// A MIME type for a file URL from its extension; Gemini requires one in fileData.
std::string mimeFromUrl(std::string_view url) {
  auto end = url.find_first_of("?#");
  std::string_view path = url.substr(0, end);
  auto dot = path.rfind('.');
  auto slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "image/jpeg";
  }
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"}, {"gif", "image/gif"},       {"heic", "image/heic"},
      {"heif", "image/heif"}, {"pdf", "application/pdf"}, {"txt", "text/plain"},
      {"mp3", "audio/mp3"},   {"wav", "audio/wav"},       {"ogg", "audio/ogg"},
      {"flac", "audio/flac"}, {"aac", "audio/aac"},       {"mp4", "video/mp4"},
      {"mov", "video/mov"},   {"webm", "video/webm"},     {"mpeg", "video/mpeg"},
      {"csv", "text/csv"},    {"html", "text/html"},      {"md", "text/md"},
  };
  auto it = kTypes.find(asciiLower(path.substr(dot + 1)));
  return it == kTypes.end() ? "image/jpeg" : it->second;
}

// A data: URL or an http(s)/gs:// URL -> an inlineData or fileData part.
Expected<json> mediaPart(std::string_view url, std::string mime_hint = {}) {
  if (url.starts_with("data:")) {
    auto comma = url.find(',');
    if (comma == std::string_view::npos) {
      return badRequest("Invalid data URL in message content");
    }
    std::string_view meta = url.substr(5, comma - 5);
    if (!meta.ends_with(";base64")) {
      return badRequest("Only base64 data URLs are supported in message content");
    }
    std::string mime(meta.substr(0, meta.size() - 7));
    if (mime.empty()) {
      mime = mime_hint.empty() ? "application/octet-stream" : mime_hint;
    }
    return json{{"inlineData", {{"mimeType", mime}, {"data", url.substr(comma + 1)}}}};
  }
  if (url.empty()) {
    return badRequest("Empty URL in message content");
  }
  return json{{"fileData",
               {{"mimeType", mime_hint.empty() ? mimeFromUrl(url) : mime_hint}, {"fileUri", url}}}};
}

Expected<json> imagePart(const json& part) {
  const json* image = member(part, "image_url");
  std::string url = image == nullptr     ? ""
                    : image->is_string() ? image->get<std::string>()
                                         : stringMember(*image, "url");
  std::string mime = image != nullptr ? stringMember(*image, "mime_type") : std::string();
  return mediaPart(url, mime);
}

Expected<json> audioPart(const json& part) {
  const json* audio = member(part, "input_audio");
  if (audio == nullptr) {
    return badRequest("input_audio part without input_audio");
  }
  std::string format = stringMember(*audio, "format");
  return json{{"inlineData",
               {{"mimeType", "audio/" + (format.empty() ? std::string("wav") : format)},
                {"data", stringMember(*audio, "data")}}}};
}

Expected<json> filePart(const json& part) {
  const json* file = member(part, "file");
  std::string data = file != nullptr ? stringMember(*file, "file_data") : std::string();
  std::string id = file != nullptr ? stringMember(*file, "file_id") : std::string();
  std::string mime = file != nullptr ? stringMember(*file, "mime_type") : std::string();
  return mediaPart(!data.empty() ? data : id, mime);
}

// One OpenAI content part -> a Gemini part, or null for parts without one (empty text,
// refusal, ...).
Expected<json> contentPart(const json& part) {
  std::string type = stringMember(part, "type");
  if (type == "text") {
    std::string text = stringMember(part, "text");
    return text.empty() ? json() : json{{"text", text}};
  }
  if (type == "image_url") {
    return imagePart(part);
  }
  if (type == "input_audio") {
    return audioPart(part);
  }
  if (type == "file") {
    return filePart(part);
  }
  return json();
}

// OpenAI message content (string or parts) -> Gemini parts, appended to `parts`.
std::optional<GatewayError> contentParts(const json& content, json& parts) {
  if (content.is_null()) {
    return std::nullopt;
  }
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) {
      parts.push_back({{"text", content}});
    }
    return std::nullopt;
  }
  if (!content.is_array()) {
    return badRequest("Message content must be a string or an array of parts");
  }
  for (const auto& part : content) {
    auto mapped = contentPart(part);
    if (!mapped) {
      return mapped.error();
    }
    if (!mapped->is_null()) {
      parts.push_back(std::move(*mapped));
    }
  }
  return std::nullopt;
}

// Tool message content -> the functionResponse.response object.
json toolResponse(const json& content) {
  std::string text;
  if (content.is_string()) {
    text = content.get<std::string>();
  } else if (content.is_array()) {
    for (const auto& part : content) {
      text += stringMember(part, "text");
    }
  } else if (!content.is_null()) {
    text = content.dump();
  }
  json parsed = parseJson(text);
  if (parsed.is_object()) {
    return parsed;
  }
  return json{{"content", text}};
}

// The request being built, message by message.
struct Conversation {
  json contents = json::array();
  json system_parts = json::array();
  // tool_call_id -> function name, from earlier assistant messages: Gemini's functionResponse
  // needs the function's name, OpenAI's tool message only carries the call id.
  std::map<std::string, std::string, std::less<>> call_names;

  // Adds a turn, merged into the previous one when the role is the same (Gemini wants turns
  // to alternate).
  void append(const std::string& role, json parts) {
    if (parts.empty()) {
      return;
    }
    if (!contents.empty() && contents.back()["role"] == role) {
      for (auto& part : parts) {
        contents.back()["parts"].push_back(std::move(part));
      }
      return;
    }
    contents.push_back({{"role", role}, {"parts", std::move(parts)}});
  }
};

// An assistant message's tool_calls -> functionCall parts.
std::optional<GatewayError> functionCalls(const json& message,
                                          Conversation& conversation,
                                          json& parts) {
  const json* calls = member(message, "tool_calls");
  if (calls == nullptr || !calls->is_array()) {
    return std::nullopt;
  }
  for (const auto& call : *calls) {
    const json* fn = member(call, "function");
    if (fn == nullptr) {
      continue;
    }
    std::string name = stringMember(*fn, "name");
    std::string arguments = stringMember(*fn, "arguments");
    json args = arguments.empty() ? json::object() : parseJson(arguments);
    if (args.is_discarded() || !args.is_object()) {
      return badRequest("tool_calls[].function.arguments must be a JSON object: " +
                        arguments.substr(0, kMaxQuotedBytes));
    }
    conversation.call_names[stringMember(call, "id")] = name;
    parts.push_back({{"functionCall", {{"name", name}, {"args", std::move(args)}}}});
  }
  return std::nullopt;
}

// A tool (or legacy function) answer -> a functionResponse part in a user turn.
std::optional<GatewayError> functionResponse(const json& message,
                                             const std::string& role,
                                             const json& content,
                                             Conversation& conversation) {
  std::string name = stringMember(message, "name");
  if (role == "tool") {
    auto it = conversation.call_names.find(stringMember(message, "tool_call_id"));
    if (it != conversation.call_names.end()) {
      name = it->second;
    }
  }
  if (name.empty()) {
    return badRequest("A tool message must answer an earlier assistant tool call (tool_call_id)");
  }
  json parts =
      json::array({{{"functionResponse", {{"name", name}, {"response", toolResponse(content)}}}}});
  conversation.append("user", std::move(parts));
  return std::nullopt;
}

std::optional<GatewayError> addMessage(const json& message, Conversation& conversation) {
  std::string role = stringMember(message, "role");
  static const json kNoContent;
  const json* content_member = member(message, "content");
  const json& content = content_member != nullptr ? *content_member : kNoContent;
  if (role == "system" || role == "developer") {
    return contentParts(content, conversation.system_parts);
  }
  if (role == "tool" || role == "function") {
    return functionResponse(message, role, content, conversation);
  }
  if (role != "user" && role != "assistant") {
    return badRequest("Unsupported message role: " + role);
  }
  json parts = json::array();
  if (auto error = contentParts(content, parts)) {
    return error;
  }
  if (role == "assistant") {
    if (auto error = functionCalls(message, conversation, parts)) {
      return error;
    }
  }
  conversation.append(role == "user" ? "user" : "model", std::move(parts));
  return std::nullopt;
}

}  // namespace

std::string modelPathSegment(std::string_view model) {
  if (model.starts_with("models/")) {
    model.remove_prefix(7);
  }
  std::string out;
  for (char c : model) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '@') {
      out += c;
    } else {
      out += '%';
      out += hexEncode(std::string_view(&c, 1));
    }
  }
  return out;
}

Expected<json> chatRequestBody(const json& body) {
  try {
    if (!body.is_object()) {
      return badRequest("The request body must be a JSON object");
    }
    const json* messages = member(body, "messages");
    if (messages == nullptr || !messages->is_array()) {
      return badRequest("messages must be an array");
    }
    Conversation conversation;
    for (const auto& message : *messages) {
      if (auto error = addMessage(message, conversation)) {
        return *error;
      }
    }
    json out = json::object();
    out["contents"] = std::move(conversation.contents);
    if (!conversation.system_parts.empty()) {
      out["systemInstruction"] = {{"parts", std::move(conversation.system_parts)}};
    }
    if (auto error = addGenerationConfig(body, out)) {
      return *error;
    }
    if (auto error = addTools(body, out)) {
      return *error;
    }
    return out;
  } catch (const std::exception& e) {
    return badRequest(std::string("Invalid request body: ") + e.what());
  }
}

}  // namespace portico::providers::gemini
