// OpenAI chat body -> Cohere v2 chat body.
#include <string>
#include <utility>

#include "cohere/cohere_adapter.hpp"
#include "cohere/cohere_mapping.hpp"

namespace portico::providers {

using nlohmann::json;

namespace cohere {

GatewayError badRequest(std::string message) {
  return errors::failure(400, "cohere: " + std::move(message));
}

// The text of an OpenAI message content: a string, or the text parts of an array.
std::string textOf(const json& content) {
  if (content.is_string()) {
    return content.get<std::string>();
  }
  std::string text;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object() && part.value("type", "") == "text") {
        auto it = part.find("text");
        if (it != part.end() && it->is_string()) {
          text += it->get_ref<const std::string&>();
        }
      }
    }
  }
  return text;
}

json toolCallsOf(const json& calls) {
  json out = json::array();
  for (const auto& call : calls) {
    if (!call.is_object()) {
      continue;
    }
    const json function = call.value("function", json::object());
    json arguments = function.is_object() ? function.value("arguments", json("")) : json("");
    if (!arguments.is_string()) {
      arguments = arguments.dump();
    }
    out.push_back({{"id", call.value("id", json(""))},
                   {"type", "function"},
                   {"function",
                    {{"name", function.is_object() ? function.value("name", json("")) : json("")},
                     {"arguments", arguments}}}});
  }
  return out;
}

}  // namespace cohere

using cohere::badRequest;
using cohere::textOf;
using cohere::toolCallsOf;

namespace {

// A user message's content: Cohere v2 takes a string or text / image_url parts.
Expected<json> userContent(const json& content) {
  if (content.is_string()) {
    return content;
  }
  if (!content.is_array()) {
    return json("");
  }
  json parts = json::array();
  for (const auto& part : content) {
    std::string type = part.is_object() ? part.value("type", "") : "";
    if (type == "text") {
      parts.push_back({{"type", "text"}, {"text", part.value("text", "")}});
    } else if (type == "image_url") {
      const json& image = part.contains("image_url") ? part["image_url"] : json();
      json url = image.is_string()   ? image
                 : image.is_object() ? image.value("url", json())
                                     : json();
      if (!url.is_string()) {
        return badRequest("image_url parts need a url");
      }
      parts.push_back({{"type", "image_url"}, {"image_url", {{"url", url}}}});
    } else {
      return badRequest("content parts of type '" + type + "' are not supported");
    }
  }
  return parts;
}

Expected<json> messagesOf(const json& messages) {
  if (!messages.is_array()) {
    return badRequest("messages must be an array");
  }
  json out = json::array();
  for (const auto& message : messages) {
    if (!message.is_object()) {
      return badRequest("every message must be an object");
    }
    std::string role = message.value("role", "");
    const json content = message.value("content", json());
    if (role == "system" || role == "developer") {
      out.push_back({{"role", "system"}, {"content", textOf(content)}});
    } else if (role == "user") {
      auto mapped = userContent(content);
      if (!mapped) {
        return mapped.error();
      }
      out.push_back({{"role", "user"}, {"content", std::move(mapped.value())}});
    } else if (role == "assistant") {
      json item = {{"role", "assistant"}};
      std::string text = textOf(content);
      auto calls = message.find("tool_calls");
      bool has_calls = calls != message.end() && calls->is_array() && !calls->empty();
      if (has_calls) {
        item["tool_calls"] = toolCallsOf(*calls);
      }
      if (!text.empty() || !has_calls) {
        item["content"] = text;
      }
      out.push_back(std::move(item));
    } else if (role == "tool") {
      out.push_back({{"role", "tool"},
                     {"tool_call_id", message.value("tool_call_id", json(""))},
                     {"content", textOf(content)}});
    } else {
      return badRequest("messages with role '" + role + "' are not supported");
    }
  }
  return out;
}

json toolsOf(const json& tools, const std::string& only) {
  json out = json::array();
  for (const auto& tool : tools) {
    if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object()) {
      continue;
    }
    const json& function = tool["function"];
    std::string name = function.value("name", "");
    if (!only.empty() && name != only) {
      continue;
    }
    json mapped = {{"name", name}};
    if (auto it = function.find("description"); it != function.end()) {
      mapped["description"] = *it;
    }
    if (auto it = function.find("parameters"); it != function.end()) {
      mapped["parameters"] = *it;
    }
    out.push_back({{"type", "function"}, {"function", std::move(mapped)}});
  }
  return out;
}

void copyParameters(const json& body, json& out) {
  static constexpr std::pair<const char*, const char*> kRenames[] = {
      {"max_tokens", "max_tokens"},
      {"max_completion_tokens", "max_tokens"},
      {"temperature", "temperature"},
      {"seed", "seed"},
      {"frequency_penalty", "frequency_penalty"},
      {"presence_penalty", "presence_penalty"},
      {"top_p", "p"},
      {"top_k", "k"},
      {"stream", "stream"},
      // Cohere-native fields a client may send on purpose (Portkey maps them too).
      {"documents", "documents"},
      {"citation_options", "citation_options"},
      {"safety_mode", "safety_mode"},
      {"strict_tools", "strict_tools"},
      {"thinking", "thinking"},
  };
  for (const auto& [from, to] : kRenames) {
    auto it = body.find(from);
    if (it != body.end() && !it->is_null() && !out.contains(to)) {
      out[to] = *it;
    }
  }
  if (auto it = body.find("stop"); it != body.end()) {
    if (it->is_string()) {
      out["stop_sequences"] = json::array({*it});
    } else if (it->is_array()) {
      out["stop_sequences"] = *it;
    }
  }
}

void mapTools(const json& body, json& out) {
  std::string forced_tool;
  if (auto it = body.find("tool_choice"); it != body.end()) {
    if (*it == "required") {
      out["tool_choice"] = "REQUIRED";
    } else if (*it == "none") {
      out["tool_choice"] = "NONE";
    } else if (it->is_object() && it->contains("function") && (*it)["function"].is_object()) {
      // Cohere cannot name a tool: offer only that one and require a call.
      forced_tool = (*it)["function"].value("name", "");
      out["tool_choice"] = "REQUIRED";
    }
  }
  if (auto it = body.find("tools"); it != body.end() && it->is_array() && !it->empty()) {
    out["tools"] = toolsOf(*it, forced_tool);
  }
}

void mapResponseFormat(const json& body, json& out) {
  auto it = body.find("response_format");
  if (it == body.end() || !it->is_object()) {
    return;
  }
  std::string type = it->value("type", "");
  if (type == "json_object") {
    out["response_format"] = {{"type", "json_object"}};
  } else if (type == "json_schema") {
    json format = {{"type", "json_object"}};
    const json schema = it->value("json_schema", json::object());
    if (schema.is_object() && schema.contains("schema")) {
      format["json_schema"] = schema["schema"];
    }
    out["response_format"] = std::move(format);
  }
}

}  // namespace

Expected<json> toCohereChatBody(const json& body) {
  if (!body.is_object()) {
    return badRequest("the request body must be a JSON object");
  }
  json out = json::object();
  if (auto it = body.find("model"); it != body.end()) {
    out["model"] = *it;
  }
  auto messages = messagesOf(body.value("messages", json()));
  if (!messages) {
    return messages.error();
  }
  out["messages"] = std::move(messages.value());
  copyParameters(body, out);
  mapTools(body, out);
  mapResponseFormat(body, out);
  return out;
}

}  // namespace portico::providers
