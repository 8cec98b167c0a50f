// OpenAI chat body -> Anthropic Messages body.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "anthropic/anthropic_adapter.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

namespace {

using nlohmann::json;

std::string stringOr(const json& object, const char* key, std::string fallback = {}) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

json textBlock(const std::string& text, const json& part = nullptr) {
  json block = {{"type", "text"}, {"text", text}};
  // Prompt caching markers are Anthropic's own; keep them when a client sends them on a part.
  if (part.is_object()) {
    if (auto it = part.find("cache_control"); it != part.end() && it->is_object()) {
      block["cache_control"] = *it;
    }
  }
  return block;
}

// An image_url / file URL as an Anthropic image or document block. data: URLs become base64
// sources with their media type; anything else is referenced by URL.
json mediaBlock(std::string_view url, bool is_file) {
  if (url.starts_with("data:")) {
    std::string_view rest = url.substr(5);
    const auto comma = rest.find(',');
    std::string_view meta = rest.substr(0, comma);
    std::string_view data = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    std::string_view media_type = meta.substr(0, meta.find(';'));
    const bool pdf = media_type == "application/pdf";
    return {{"type", pdf || (is_file && !media_type.starts_with("image/")) ? "document" : "image"},
            {"source", {{"type", "base64"}, {"media_type", media_type}, {"data", data}}}};
  }
  return {{"type", is_file ? "document" : "image"}, {"source", {{"type", "url"}, {"url", url}}}};
}

// Appends the Anthropic blocks for an OpenAI message `content` (string, parts array or null).
// Empty text is skipped: Anthropic rejects empty text blocks.
void appendContent(const json& content, json& blocks) {
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) {
      blocks.push_back(textBlock(content.get<std::string>()));
    }
    return;
  }
  if (!content.is_array()) {
    return;
  }
  for (const auto& part : content) {
    if (!part.is_object()) {
      continue;
    }
    const std::string type = stringOr(part, "type");
    if (type == "text") {
      std::string text = stringOr(part, "text");
      if (!text.empty()) {
        blocks.push_back(textBlock(text, part));
      }
    } else if (type == "image_url") {
      const json& image = part.contains("image_url") ? part["image_url"] : json();
      std::string url = image.is_string() ? image.get<std::string>() : stringOr(image, "url");
      if (!url.empty()) {
        blocks.push_back(mediaBlock(url, false));
      }
    } else if (type == "file") {
      const json& file = part.contains("file") ? part["file"] : json();
      if (!file.is_object()) {
        continue;
      }
      if (std::string data = stringOr(file, "file_data"); !data.empty()) {
        blocks.push_back(mediaBlock(data, true));
      } else if (std::string file_id = stringOr(file, "file_id"); !file_id.empty()) {
        blocks.push_back(
            {{"type", "document"}, {"source", {{"type", "file"}, {"file_id", file_id}}}});
      }
    } else if (type == "image" || type == "document" || type == "thinking" ||
               type == "redacted_thinking") {
      // Already Anthropic blocks (clients that know the provider): pass them on.
      blocks.push_back(part);
    }
    // Other part types (input_audio, refusal, ...) have no Anthropic equivalent.
  }
}

json toolUseBlock(const json& call) {
  const json& function = call.contains("function") ? call["function"] : json();
  json input = json::object();
  if (function.is_object()) {
    if (auto args = function.find("arguments"); args != function.end()) {
      if (args->is_object()) {
        input = *args;
      } else if (args->is_string()) {
        // Models sometimes produce invalid JSON; Anthropic needs an object, so send {}.
        json parsed = parseJson(args->get<std::string>());
        if (parsed.is_object()) {
          input = std::move(parsed);
        }
      }
    }
  }
  return {{"type", "tool_use"},
          {"id", stringOr(call, "id")},
          {"name", function.is_object() ? stringOr(function, "name") : ""},
          {"input", std::move(input)}};
}

json toolResultBlock(const json& message) {
  json block = {{"type", "tool_result"}, {"tool_use_id", stringOr(message, "tool_call_id")}};
  auto content = message.find("content");
  if (content != message.end()) {
    if (content->is_string()) {
      block["content"] = *content;
    } else if (content->is_array()) {
      json parts = json::array();
      appendContent(*content, parts);
      block["content"] = std::move(parts);
    }
  }
  return block;
}

// Appends `blocks` as a message of `role`, merging into the previous message when it has the
// same role: Anthropic requires user and assistant turns to alternate.
void pushMessage(json& messages, const std::string& role, json blocks) {
  if (blocks.empty()) {
    return;
  }
  if (!messages.empty() && messages.back()["role"] == role) {
    auto& content = messages.back()["content"];
    for (auto& block : blocks) {
      content.push_back(std::move(block));
    }
    return;
  }
  messages.push_back({{"role", role}, {"content", std::move(blocks)}});
}

// A default_max_tokens setting: a positive integer, as a config number or a header string.
std::optional<std::int64_t> parseMaxTokens(const json& value) {
  std::int64_t out = 0;
  if (value.is_number_integer()) {
    out = value.get<std::int64_t>();
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  return out > 0 ? std::optional(out) : std::nullopt;
}

json mapToolChoice(const json& choice) {
  if (choice.is_string()) {
    const auto& value = choice.get_ref<const std::string&>();
    if (value == "auto") return {{"type", "auto"}};
    if (value == "required") return {{"type", "any"}};
    if (value == "none") return {{"type", "none"}};
    return nullptr;
  }
  if (choice.is_object()) {
    const json& function = choice.contains("function") ? choice["function"] : json();
    if (function.is_object() && function.contains("name")) {
      return {{"type", "tool"}, {"name", function["name"]}};
    }
  }
  return nullptr;
}

}  // namespace

AnthropicSettings AnthropicSettings::read(const Target& target) {
  AnthropicSettings out;
  out.version = target.option("anthropic_version");
  out.beta = target.option("anthropic_beta");
  if (auto it = target.options.find("default_max_tokens");
      it != target.options.end() && !it->is_null()) {
    auto value = parseMaxTokens(*it);
    out.default_max_tokens = value.value_or(kDefaultMaxTokens);
    out.default_max_tokens_invalid = !value;
  }
  return out;
}

Expected<json> anthropicChatBody(const json& body, const Target& target) {
  return anthropicChatBody(body, AnthropicSettings::read(target));
}

namespace {

// OpenAI messages -> Anthropic's system blocks and alternating user / assistant messages.
void mapMessages(const json& list, json& out) {
  json system = json::array();
  json messages = json::array();
  for (const auto& message : list) {
    if (!message.is_object()) {
      continue;
    }
    const std::string role = stringOr(message, "role");
    const json& content = message.contains("content") ? message["content"] : json();
    json blocks = json::array();
    if (role == "system" || role == "developer") {
      appendContent(content, blocks);
      for (auto& block : blocks) {
        if (block["type"] == "text") {
          system.push_back(std::move(block));
        }
      }
    } else if (role == "user") {
      appendContent(content, blocks);
      pushMessage(messages, "user", std::move(blocks));
    } else if (role == "assistant") {
      appendContent(content, blocks);
      if (auto calls = message.find("tool_calls"); calls != message.end() && calls->is_array()) {
        for (const auto& call : *calls) {
          if (call.is_object()) {
            blocks.push_back(toolUseBlock(call));
          }
        }
      }
      pushMessage(messages, "assistant", std::move(blocks));
    } else if (role == "tool") {
      blocks.push_back(toolResultBlock(message));
      pushMessage(messages, "user", std::move(blocks));
    }
    // Legacy "function" messages and unknown roles are dropped.
  }
  if (!system.empty()) {
    out["system"] = std::move(system);
  }
  out["messages"] = std::move(messages);
}

// max_tokens, which Anthropic requires: the body's (max_completion_tokens is OpenAI's current
// name, max_tokens the older one), else the target's default.
Expected<bool> mapMaxTokens(const json& body, const AnthropicSettings& settings, json& out) {
  if (auto it = body.find("max_completion_tokens"); it != body.end() && it->is_number()) {
    out["max_tokens"] = *it;
  } else if (auto it2 = body.find("max_tokens"); it2 != body.end() && it2->is_number()) {
    out["max_tokens"] = *it2;
  } else if (settings.default_max_tokens_invalid) {
    return errors::failure(400,
                           "Invalid default_max_tokens for anthropic: expected a positive "
                           "integer");
  } else {
    out["max_tokens"] = settings.default_max_tokens;
  }
  return true;
}

// Sampling, stop sequences and metadata.
void mapParameters(const json& body, json& out) {
  for (const char* key : {"temperature", "top_p", "top_k", "stream", "thinking"}) {
    if (auto it = body.find(key); it != body.end() && !it->is_null()) {
      out[key] = *it;
    }
  }
  if (auto it = body.find("stop"); it != body.end()) {
    json stops = json::array();
    if (it->is_string()) {
      stops.push_back(*it);
    } else if (it->is_array()) {
      for (const auto& s : *it) {
        if (s.is_string()) stops.push_back(s);
      }
    }
    if (!stops.empty()) {
      out["stop_sequences"] = std::move(stops);
    }
  }
  json metadata = json::object();
  if (auto it = body.find("metadata"); it != body.end() && it->is_object()) {
    metadata = *it;
  }
  if (auto it = body.find("user"); it != body.end() && it->is_string()) {
    metadata["user_id"] = *it;
  }
  if (!metadata.empty()) {
    out["metadata"] = std::move(metadata);
  }
}

// An OpenAI function tool as an Anthropic tool, or null for other tools.
json mapTool(const json& tool) {
  if (!tool.is_object() || stringOr(tool, "type", "function") != "function" ||
      !tool.contains("function") || !tool["function"].is_object()) {
    return nullptr;  // only function tools have an OpenAI meaning
  }
  const json& function = tool["function"];
  json mapped = {{"name", stringOr(function, "name")}};
  if (auto d = function.find("description"); d != function.end() && d->is_string()) {
    mapped["description"] = *d;
  }
  auto params = function.find("parameters");
  mapped["input_schema"] = params != function.end() && params->is_object()
                               ? *params
                               : json{{"type", "object"}, {"properties", json::object()}};
  if (auto cc = tool.find("cache_control"); cc != tool.end() && cc->is_object()) {
    mapped["cache_control"] = *cc;
  }
  return mapped;
}

void mapTools(const json& body, json& out) {
  json tools = json::array();
  if (auto it = body.find("tools"); it != body.end() && it->is_array()) {
    for (const auto& tool : *it) {
      if (json mapped = mapTool(tool); !mapped.is_null()) {
        tools.push_back(std::move(mapped));
      }
    }
  }
  // Anthropic rejects tool_choice without tools, so both go together.
  if (tools.empty()) {
    return;
  }
  out["tools"] = std::move(tools);
  json choice = body.contains("tool_choice") ? mapToolChoice(body["tool_choice"]) : json();
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && *p == false) {
    if (choice.is_null()) {
      choice = {{"type", "auto"}};
    }
    if (choice["type"] != "none") {
      choice["disable_parallel_tool_use"] = true;
    }
  }
  if (!choice.is_null()) {
    out["tool_choice"] = std::move(choice);
  }
}

}  // namespace

Expected<json> anthropicChatBody(const json& body, const AnthropicSettings& settings) {
  if (!body.is_object()) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  json out = json::object();
  if (auto it = body.find("model"); it != body.end()) {
    out["model"] = *it;  // never invented
  }
  auto list = body.find("messages");
  mapMessages(list != body.end() && list->is_array() ? *list : json::array(), out);
  if (auto max_tokens = mapMaxTokens(body, settings, out); !max_tokens) {
    return max_tokens.error();
  }
  mapParameters(body, out);
  mapTools(body, out);
  return out;
}

}  // namespace portico::providers
