// Anthropic Messages body -> OpenAI chat completions body.
#include <string>
#include <string_view>

#include "apis/messages_api.hpp"
#include "portico/json_parse.hpp"

namespace portico::apis::messages {
namespace {

using nlohmann::json;

GatewayError invalid(std::string message) { return errors::failure(400, std::move(message)); }

// The member `key` of an object, or null when absent (null and absent mean the same here).
// "messages.2.content.0": where a problem is, in Anthropic's validation style.
std::string at(std::string_view path, std::size_t index) {
  return std::string(path) + "." + std::to_string(index);
}

std::string join(const json& texts, std::string_view separator) {
  std::string out;
  for (const auto& text : texts) {
    if (!out.empty()) {
      out += separator;
    }
    out += text.get_ref<const std::string&>();
  }
  return out;
}

// --- content blocks ------------------------------------------------------------------------

Expected<json> textPart(const json& block, const std::string& path) {
  const json& text = member(block, "text");
  if (!text.is_string()) {
    return invalid(path + ".text: Input should be a valid string");
  }
  return json{{"type", "text"}, {"text", text}};
}

// An image block's source as a chat image_url part: base64 data becomes a data: URL.
Expected<json> imagePart(const json& block, const std::string& path) {
  const json& source = member(block, "source");
  const json& type = member(source, "type");
  std::string url;
  if (type == "base64" && member(source, "media_type").is_string() &&
      member(source, "data").is_string()) {
    url = "data:" + source["media_type"].get<std::string>() + ";base64," +
          source["data"].get<std::string>();
  } else if (type == "url" && member(source, "url").is_string()) {
    url = source["url"].get<std::string>();
  } else {
    return invalid(path + ".source: image sources must be base64 (media_type, data) or url");
  }
  return json{{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}};
}

// A document block: a base64 file (PDF) becomes a chat file part, plain text a text part.
// URL and Files API sources have no chat equivalent (chat files are inline data or OpenAI ids).
Expected<json> documentPart(const json& block, const std::string& path) {
  const json& source = member(block, "source");
  const json& type = member(source, "type");
  const json& data = member(source, "data");
  if (type == "text" && data.is_string()) {
    return json{{"type", "text"}, {"text", data}};
  }
  if (type != "base64" || !data.is_string()) {
    return invalid(path + ".source: document sources must be base64 or text for this provider");
  }
  const json& media = member(source, "media_type");
  const std::string media_type = media.is_string() ? media.get<std::string>() : "application/pdf";
  json file = {{"file_data", "data:" + media_type + ";base64," + data.get<std::string>()}};
  if (const json& title = member(block, "title"); title.is_string()) {
    file["filename"] = title;
  }
  return json{{"type", "file"}, {"file", std::move(file)}};
}

// A user block that becomes a chat content part (text, image, document).
Expected<json> userPart(const json& block, const std::string& type, const std::string& path) {
  if (type == "text") {
    return textPart(block, path);
  }
  if (type == "image") {
    return imagePart(block, path);
  }
  if (type == "document") {
    return documentPart(block, path);
  }
  return invalid(path + ": content blocks of type '" + type + "' are not supported");
}

std::string blockType(const json& block) {
  const json& type = member(block, "type");
  return type.is_string() ? type.get<std::string>() : std::string();
}

// A tool_result block as a chat tool message. Chat tool messages carry text only, so images
// and documents in the result go to `media`, sent in a user message right after the tool
// messages. is_error has no chat field; the content says what went wrong.
Expected<json> toolMessage(const json& block, const std::string& path, json& media) {
  const json& id = member(block, "tool_use_id");
  if (!id.is_string()) {
    return invalid(path + ".tool_use_id: Input should be a valid string");
  }
  const json& content = member(block, "content");
  json texts = json::array();
  if (content.is_string()) {
    texts.push_back(content);
  } else if (content.is_array()) {
    for (std::size_t i = 0; i < content.size(); ++i) {
      const std::string item_path = at(path + ".content", i);
      if (!content[i].is_object()) {
        return invalid(item_path + ": Input should be a valid dictionary");
      }
      auto part = userPart(content[i], blockType(content[i]), item_path);
      if (!part) {
        return part.error();
      }
      if ((*part)["type"] == "text") {
        texts.push_back((*part)["text"]);
      } else {
        media.push_back(std::move(*part));
      }
    }
  } else if (!content.is_null()) {
    return invalid(path + ".content: Input should be a valid string or list");
  }
  return json{{"role", "tool"}, {"tool_call_id", id}, {"content", join(texts, "\n\n")}};
}

// --- messages ------------------------------------------------------------------------------

// Chat content for user parts: one text part is sent as a plain string (which every chat
// provider takes); anything else stays a parts array, so separate blocks stay separate.
json userContent(json parts) {
  if (parts.size() == 1 && parts[0]["type"] == "text") {
    return parts[0]["text"];
  }
  return parts;
}

// A user turn: its tool results first (chat needs them right after the assistant's
// tool_calls), then its other content as one user message.
Expected<bool> mapUser(const json& content, const std::string& path, json& messages) {
  if (content.is_string()) {
    messages.push_back({{"role", "user"}, {"content", content}});
    return true;
  }
  json parts = json::array();
  json media = json::array();
  bool had_tool_results = false;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = at(path, i);
    if (!content[i].is_object()) {
      return invalid(block_path + ": Input should be a valid dictionary");
    }
    const std::string type = blockType(content[i]);
    if (type == "tool_result") {
      auto tool = toolMessage(content[i], block_path, media);
      if (!tool) {
        return tool.error();
      }
      messages.push_back(std::move(*tool));
      had_tool_results = true;
      continue;
    }
    auto part = userPart(content[i], type, block_path);
    if (!part) {
      return part.error();
    }
    parts.push_back(std::move(*part));
  }
  for (auto& item : media) {
    parts.push_back(std::move(item));
  }
  // A turn that only answered tools needs no user message; an empty one is kept as it came.
  if (!parts.empty() || !had_tool_results) {
    messages.push_back({{"role", "user"}, {"content", userContent(std::move(parts))}});
  }
  return true;
}

Expected<json> toolCall(const json& block, const std::string& path) {
  const json& id = member(block, "id");
  const json& name = member(block, "name");
  if (!id.is_string() || !name.is_string()) {
    return invalid(path + ": tool_use blocks need a string id and name");
  }
  const json& input = member(block, "input");
  const std::string arguments =
      input.is_null() ? "{}" : input.dump(-1, ' ', false, json::error_handler_t::replace);
  return json{
      {"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

// An assistant turn: text joined into the content string, tool_use blocks as tool_calls.
// thinking and redacted_thinking blocks are dropped: their signatures only mean something to
// Anthropic, and chat has no field to send earlier reasoning back in.
Expected<bool> mapAssistant(const json& content, const std::string& path, json& messages) {
  if (content.is_string()) {
    messages.push_back({{"role", "assistant"}, {"content", content}});
    return true;
  }
  json texts = json::array();
  json calls = json::array();
  for (std::size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = at(path, i);
    if (!content[i].is_object()) {
      return invalid(block_path + ": Input should be a valid dictionary");
    }
    const std::string type = blockType(content[i]);
    if (type == "text") {
      auto part = textPart(content[i], block_path);
      if (!part) {
        return part.error();
      }
      texts.push_back((*part)["text"]);
    } else if (type == "tool_use") {
      auto call = toolCall(content[i], block_path);
      if (!call) {
        return call.error();
      }
      calls.push_back(std::move(*call));
    } else if (type != "thinking" && type != "redacted_thinking") {
      return invalid(block_path + ": content blocks of type '" + type +
                     "' are not supported in assistant messages");
    }
  }
  json message = {{"role", "assistant"}};
  // Chat wants null content beside tool calls when there is no text.
  message["content"] = texts.empty() && !calls.empty() ? json() : json(join(texts, "\n\n"));
  if (!calls.empty()) {
    message["tool_calls"] = std::move(calls);
  }
  messages.push_back(std::move(message));
  return true;
}

Expected<bool> mapMessage(const json& message, std::size_t index, json& messages) {
  const std::string path = at("messages", index);
  if (!message.is_object()) {
    return invalid(path + ": Input should be a valid dictionary");
  }
  const json& role = member(message, "role");
  const json& content = member(message, "content");
  if (!content.is_string() && !content.is_array()) {
    return invalid(path + ".content: Input should be a valid string or list");
  }
  if (role == "user") {
    return mapUser(content, path + ".content", messages);
  }
  if (role == "assistant") {
    return mapAssistant(content, path + ".content", messages);
  }
  return invalid(path + ".role: Input should be 'user' or 'assistant'");
}

// `system`, a string or text blocks (joined; cache_control has no chat meaning), as the first
// chat message.
Expected<bool> mapSystem(const json& system, json& messages) {
  if (system.is_null()) {
    return true;
  }
  std::string text;
  if (system.is_string()) {
    text = system.get<std::string>();
  } else if (system.is_array()) {
    json texts = json::array();
    for (std::size_t i = 0; i < system.size(); ++i) {
      const json& block = system[i];
      if (!block.is_object() || blockType(block) != "text") {
        return invalid(at("system", i) + ": system blocks must be text blocks");
      }
      auto part = textPart(block, at("system", i));
      if (!part) {
        return part.error();
      }
      texts.push_back((*part)["text"]);
    }
    text = join(texts, "\n\n");
  } else {
    return invalid("system: Input should be a valid string or list");
  }
  if (!text.empty()) {
    messages.push_back({{"role", "system"}, {"content", std::move(text)}});
  }
  return true;
}

// --- parameters ----------------------------------------------------------------------------

// max_tokens is required by Anthropic; a body without it is refused as Anthropic does.
Expected<bool> mapMaxTokens(const json& body, json& out) {
  const json& max_tokens = member(body, "max_tokens");
  if (max_tokens.is_null()) {
    return invalid("max_tokens: Field required");
  }
  if (!max_tokens.is_number_integer()) {
    return invalid("max_tokens: Input should be a valid integer");
  }
  if (max_tokens.get<long long>() < 1) {
    return invalid("max_tokens: Input should be greater than or equal to 1");
  }
  out["max_tokens"] = max_tokens;
  return true;
}

// model, stream, temperature, top_p, stop_sequences and metadata.user_id. top_k is dropped:
// chat completions has no top-k sampling parameter.
Expected<bool> mapParameters(const json& body, json& out) {
  if (const json& model = member(body, "model"); model.is_string()) {
    out["model"] = model;
  } else if (!model.is_null()) {
    return invalid("model: Input should be a valid string");
  }
  if (const json& stream = member(body, "stream"); stream.is_boolean()) {
    out["stream"] = stream;
    if (stream.get<bool>()) {
      // The chat stream then ends with the usage Anthropic's message_delta reports.
      out["stream_options"] = {{"include_usage", true}};
    }
  } else if (!stream.is_null()) {
    return invalid("stream: Input should be a valid boolean");
  }
  for (const char* key : {"temperature", "top_p"}) {
    if (const json& value = member(body, key); value.is_number()) {
      out[key] = value;
    } else if (!value.is_null()) {
      return invalid(std::string(key) + ": Input should be a valid number");
    }
  }
  if (const json& stops = member(body, "stop_sequences"); stops.is_array()) {
    for (const auto& stop : stops) {
      if (!stop.is_string()) {
        return invalid("stop_sequences: Input should be a list of strings");
      }
    }
    if (!stops.empty()) {
      out["stop"] = stops;
    }
  } else if (!stops.is_null()) {
    return invalid("stop_sequences: Input should be a valid list");
  }
  // metadata of another shape is ignored: it never changes the answer.
  if (const json& metadata = member(body, "metadata"); metadata.is_object()) {
    if (const json& user = member(metadata, "user_id"); user.is_string()) {
      out["user"] = user;
    }
  }
  return true;
}

// Client tools as chat function tools. Anthropic's server tools (web search, bash, text
// editor, computer use, ...) run on Anthropic's side, which another provider cannot do.
Expected<json> mapTool(const json& tool, std::size_t index) {
  const std::string path = at("tools", index);
  if (!tool.is_object()) {
    return invalid(path + ": Input should be a valid dictionary");
  }
  const json& type = member(tool, "type");
  if (!type.is_null() && type != "custom") {
    const std::string name = type.is_string() ? type.get<std::string>() : type.dump();
    return invalid(name + " tools are not supported for this provider");
  }
  const json& name = member(tool, "name");
  if (!name.is_string()) {
    return invalid(path + ".name: Input should be a valid string");
  }
  json function = {{"name", name}};
  if (const json& description = member(tool, "description"); description.is_string()) {
    function["description"] = description;
  }
  const json& schema = member(tool, "input_schema");
  if (!schema.is_null() && !schema.is_object()) {
    return invalid(path + ".input_schema: Input should be a valid dictionary");
  }
  function["parameters"] =
      schema.is_object() ? schema : json{{"type", "object"}, {"properties", json::object()}};
  return json{{"type", "function"}, {"function", std::move(function)}};
}

Expected<json> mapToolChoice(const json& choice) {
  if (!choice.is_object()) {
    return invalid("tool_choice: Input should be a valid dictionary");
  }
  const json& type = member(choice, "type");
  if (type == "auto") {
    return json("auto");
  }
  if (type == "any") {
    return json("required");
  }
  if (type == "none") {
    return json("none");
  }
  if (type == "tool") {
    const json& name = member(choice, "name");
    if (!name.is_string()) {
      return invalid("tool_choice.name: Field required");
    }
    return json{{"type", "function"}, {"function", {{"name", name}}}};
  }
  return invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
}

// tools, tool_choice and disable_parallel_tool_use. Chat providers refuse tool_choice and
// parallel_tool_calls without tools, so those only go with tools.
Expected<bool> mapTools(const json& body, json& out) {
  const json& list = member(body, "tools");
  if (!list.is_null() && !list.is_array()) {
    return invalid("tools: Input should be a valid list");
  }
  json tools = json::array();
  for (std::size_t i = 0; list.is_array() && i < list.size(); ++i) {
    auto tool = mapTool(list[i], i);
    if (!tool) {
      return tool.error();
    }
    tools.push_back(std::move(*tool));
  }
  const json& choice = member(body, "tool_choice");
  json mapped_choice;
  if (!choice.is_null()) {
    auto mapped = mapToolChoice(choice);
    if (!mapped) {
      return mapped.error();
    }
    mapped_choice = std::move(*mapped);
  }
  if (tools.empty()) {
    return true;
  }
  out["tools"] = std::move(tools);
  if (!mapped_choice.is_null()) {
    out["tool_choice"] = std::move(mapped_choice);
  }
  if (choice.is_object() && member(choice, "disable_parallel_tool_use") == true) {
    out["parallel_tool_calls"] = false;
  }
  return true;
}

// Extended thinking as chat's reasoning_effort, from the budget: below 4096 tokens "low",
// below 16384 "medium", else "high" (Anthropic's minimum budget is 1024; 16k and up is what
// its docs call a large budget). "disabled" and "adaptive" (the model decides) send nothing.
Expected<bool> mapThinking(const json& thinking, json& out) {
  if (thinking.is_null()) {
    return true;
  }
  const json& type = member(thinking, "type");
  if (type == "disabled" || type == "adaptive") {
    return true;
  }
  if (type != "enabled") {
    return invalid("thinking.type: Input should be 'enabled' or 'disabled'");
  }
  const json& budget = member(thinking, "budget_tokens");
  if (!budget.is_number_integer()) {
    return invalid("thinking.enabled.budget_tokens: Field required");
  }
  const long long tokens = budget.get<long long>();
  out["reasoning_effort"] = tokens < 4096 ? "low" : tokens < 16384 ? "medium" : "high";
  return true;
}

Expected<json> mapBody(const json& body) {
  if (!body.is_object()) {
    return invalid("The request body must be a JSON object");
  }
  const json& list = member(body, "messages");
  if (!list.is_array()) {
    return invalid(list.is_null() ? "messages: Field required"
                                  : "messages: Input should be a valid list");
  }
  json out = json::object();
  json messages = json::array();
  for (auto step : {mapParameters(body, out), mapMaxTokens(body, out),
                    mapSystem(member(body, "system"), messages), mapTools(body, out),
                    mapThinking(member(body, "thinking"), out)}) {
    if (!step) {
      return step.error();
    }
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (auto mapped = mapMessage(list[i], i, messages); !mapped) {
      return mapped.error();
    }
  }
  out["messages"] = std::move(messages);
  return out;
}

}  // namespace

Expected<json> toChatRequest(const json& body) {
  // Every access above is type-checked; this only keeps a missed case from escaping as an
  // exception (the contract is a value or a 400).
  try {
    return mapBody(body);
  } catch (const json::exception& e) {
    return invalid(std::string("Invalid Messages request: ") + e.what());
  }
}

}  // namespace portico::apis::messages
