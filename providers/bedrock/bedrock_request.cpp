// OpenAI chat body -> Converse request body, and the Converse URL pieces.
#include <utility>

#include "bedrock/bedrock_adapter.hpp"
#include "bedrock/bedrock_detail.hpp"
#include "portico/encoding.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers::bedrock {

using nlohmann::json;

namespace {

using detail::badRequest;
using detail::stringField;

// ---- messages ----------------------------------------------------------------------------

// "data:image/png;base64,AAAA" -> {image:{format, source:{bytes}}}. Converse takes raw bytes
// (base64 in JSON) only; remote URLs would need a fetch, which a gateway must not do silently.
Expected<json> imageBlock(const json& part) {
  std::string url;
  if (auto it = part.find("image_url"); it != part.end()) {
    url = it->is_string() ? it->get<std::string>() : stringField(*it, "url");
  }
  constexpr std::string_view kPrefix = "data:image/";
  const auto marker = url.find(";base64,");
  if (!url.starts_with(kPrefix) || marker == std::string::npos) {
    return badRequest("images must be base64 data URLs (data:image/<format>;base64,...)");
  }
  std::string format = url.substr(kPrefix.size(), marker - kPrefix.size());
  if (format == "jpg") {
    format = "jpeg";
  }
  if (format != "png" && format != "jpeg" && format != "gif" && format != "webp") {
    return badRequest("unsupported image format '" + format + "' (png, jpeg, gif, webp)");
  }
  return json{
      {"image",
       {{"format", format},
        {"source", {{"bytes", url.substr(marker + std::string_view(";base64,").size())}}}}}};
}

// Appends the text and image parts of an OpenAI content value as Converse blocks.
Expected<bool> appendContent(const json& content, bool allow_images, json& blocks) {
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) {
      blocks.push_back({{"text", content}});
    }
    return true;
  }
  if (content.is_null()) {
    return true;
  }
  if (!content.is_array()) {
    return badRequest("message content must be a string or an array of parts");
  }
  for (const auto& part : content) {
    if (part.is_string()) {
      blocks.push_back({{"text", part}});
      continue;
    }
    const std::string type = part.is_object() ? stringField(part, "type") : std::string();
    if (type == "text") {
      if (!stringField(part, "text").empty()) {
        blocks.push_back({{"text", part["text"]}});
      }
    } else if (type == "image_url" && allow_images) {
      auto image = imageBlock(part);
      if (!image) {
        return image.error();
      }
      blocks.push_back(std::move(*image));
    } else {
      return badRequest("unsupported content part type '" + type + "'");
    }
  }
  return true;
}

Expected<json> toolUseBlocks(const json& tool_calls) {
  json blocks = json::array();
  if (!tool_calls.is_array()) {
    return blocks;
  }
  for (const auto& call : tool_calls) {
    if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) {
      return badRequest("tool_calls entries need a function");
    }
    const json& fn = call["function"];
    json input = json::object();
    const std::string arguments = stringField(fn, "arguments");
    if (!arguments.empty()) {
      input = parseJson(arguments);
      if (input.is_discarded() || !input.is_object()) {
        return badRequest("tool call arguments must be a JSON object");
      }
    }
    blocks.push_back({{"toolUse",
                       {{"toolUseId", stringField(call, "id")},
                        {"name", stringField(fn, "name")},
                        {"input", std::move(input)}}}});
  }
  return blocks;
}

Expected<json> toolResultBlock(const json& message) {
  json content = json::array();
  auto it = message.find("content");
  if (it != message.end() && it->is_object()) {
    content.push_back({{"json", *it}});
  } else if (it != message.end()) {
    auto ok = appendContent(*it, false, content);
    if (!ok) {
      return ok.error();
    }
  }
  if (content.empty()) {
    // Converse rejects an empty tool result; an empty string is what the tool returned.
    content.push_back({{"text", ""}});
  }
  return json{
      {"toolResult", {{"toolUseId", stringField(message, "tool_call_id")}, {"content", content}}}};
}

// Converse requires user/assistant alternation: a message with the previous one's role is
// merged into it.
void appendMessage(json& messages, const std::string& role, json blocks) {
  if (!messages.empty() && messages.back()["role"] == role) {
    for (auto& block : blocks) {
      messages.back()["content"].push_back(std::move(block));
    }
    return;
  }
  messages.push_back({{"role", role}, {"content", std::move(blocks)}});
}

bool mentionsTools(const json& messages) {
  for (const auto& message : messages) {
    for (const auto& block : message["content"]) {
      if (block.contains("toolUse") || block.contains("toolResult")) {
        return true;
      }
    }
  }
  return false;
}
// Appends one OpenAI message: system/developer text to `system`, the rest to `messages`.
Expected<bool> appendOpenAiMessage(const json& message, json& system, json& messages) {
  if (!message.is_object()) {
    return badRequest("messages must be objects");
  }
  const std::string role = stringField(message, "role");
  const json content = message.contains("content") ? message["content"] : json(nullptr);
  if (role == "system" || role == "developer") {
    return appendContent(content, false, system);
  }
  json blocks = json::array();
  if (role == "user") {
    if (auto ok = appendContent(content, true, blocks); !ok) return ok.error();
  } else if (role == "assistant") {
    if (auto ok = appendContent(content, false, blocks); !ok) return ok.error();
    auto tool_uses =
        toolUseBlocks(message.contains("tool_calls") ? message["tool_calls"] : json(nullptr));
    if (!tool_uses) return tool_uses.error();
    for (auto& block : *tool_uses) blocks.push_back(std::move(block));
  } else if (role == "tool") {
    auto result = toolResultBlock(message);
    if (!result) return result.error();
    appendMessage(messages, "user", json::array({std::move(*result)}));
    return true;
  } else {
    return badRequest("unsupported message role '" + role + "'");
  }
  if (blocks.empty()) {
    blocks.push_back({{"text", ""}});  // let Bedrock say what it thinks of blank input
  }
  appendMessage(messages, role, std::move(blocks));
  return true;
}

// ---- tools -------------------------------------------------------------------------------

Expected<json> toolSpecs(const json& tools) {
  json specs = json::array();
  for (const auto& tool : tools) {
    if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object()) {
      return badRequest("only function tools are supported");
    }
    const json& fn = tool["function"];
    json spec = {{"name", stringField(fn, "name")}};
    if (!stringField(fn, "description").empty()) {
      spec["description"] = fn["description"];
    }
    json schema = fn.contains("parameters") && fn["parameters"].is_object()
                      ? fn["parameters"]
                      : json{{"type", "object"}, {"properties", json::object()}};
    spec["inputSchema"] = {{"json", std::move(schema)}};
    specs.push_back({{"toolSpec", std::move(spec)}});
  }
  return specs;
}

// Sets config.toolChoice from OpenAI's tool_choice; null when the tools are to be left out.
Expected<json> withToolChoice(json config, const json& choice, const json& messages) {
  if (choice.is_null()) {
    return config;
  }
  if (choice.is_string()) {
    const auto& value = choice.get_ref<const std::string&>();
    if (value == "auto") {
      config["toolChoice"] = {{"auto", json::object()}};
    } else if (value == "required") {
      config["toolChoice"] = {{"any", json::object()}};
    } else if (value == "none") {
      // Converse has no "none". Without tool blocks in the history the tools can simply be left
      // out; with them Converse insists on a toolConfig, so it is kept with the default choice.
      if (!mentionsTools(messages)) {
        return json(nullptr);
      }
    } else {
      return badRequest("unsupported tool_choice '" + value + "'");
    }
  } else if (choice.is_object() && choice.contains("function") && choice["function"].is_object()) {
    config["toolChoice"] = {{"tool", {{"name", stringField(choice["function"], "name")}}}};
  } else {
    return badRequest("unsupported tool_choice");
  }
  return config;
}

Expected<json> toolConfig(const json& body, const json& messages) {
  auto tools = body.find("tools");
  if (tools == body.end() || !tools->is_array() || tools->empty()) {
    return json(nullptr);
  }
  auto specs = toolSpecs(*tools);
  if (!specs) {
    return specs.error();
  }
  auto choice = body.find("tool_choice");
  return withToolChoice(json{{"tools", std::move(*specs)}},
                        choice == body.end() ? json(nullptr) : *choice, messages);
}

// ---- inference and model fields ----------------------------------------------------------

json inferenceConfig(const json& body) {
  json inference = json::object();
  if (auto it = body.find("max_completion_tokens"); it != body.end() && it->is_number()) {
    inference["maxTokens"] = *it;
  } else if (auto it2 = body.find("max_tokens"); it2 != body.end() && it2->is_number()) {
    inference["maxTokens"] = *it2;
  }
  if (auto it = body.find("temperature"); it != body.end() && it->is_number()) {
    inference["temperature"] = *it;
  }
  if (auto it = body.find("top_p"); it != body.end() && it->is_number()) {
    inference["topP"] = *it;
  }
  if (auto it = body.find("stop"); it != body.end()) {
    if (it->is_string()) {
      inference["stopSequences"] = json::array({*it});
    } else if (it->is_array() && !it->empty()) {
      inference["stopSequences"] = *it;
    }
  }
  return inference;
}

// "a, b,,c" -> ["a","b","c"].
// Model-specific fields Converse does not model itself.
json additionalModelFields(const json& body, ModelFamily family, const BedrockSettings& settings) {
  json additional = json::object();
  if (auto it = body.find("additional_model_request_fields"); it != body.end() && it->is_object()) {
    additional = *it;
  }
  if (auto it = body.find("top_k"); it != body.end() && it->is_number()) {
    additional["top_k"] = *it;
  }
  if (family == ModelFamily::kAnthropic && !settings.anthropic_beta.empty()) {
    if (json list = detail::commaList(settings.anthropic_beta); !list.empty()) {
      additional["anthropic_beta"] = std::move(list);
    }
  }
  return additional;
}

}  // namespace

json detail::commaList(std::string_view text) {
  json list = json::array();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string item(text.substr(pos, comma - pos));
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) list.push_back(std::move(item));
    pos = comma + 1;
  }
  return list;
}

ModelFamily modelFamily(std::string_view model) {
  const std::string lower = asciiLower(model);
  if (lower.find("amazon.titan-embed") != std::string::npos) return ModelFamily::kTitanEmbed;
  if (lower.find("cohere.embed") != std::string::npos) return ModelFamily::kCohereEmbed;
  if (lower.find("anthropic.") != std::string::npos) return ModelFamily::kAnthropic;
  return ModelFamily::kOther;
}

std::string baseUrl(std::string_view region) {
  return "https://bedrock-runtime." + std::string(region) + ".amazonaws.com";
}

std::string modelPath(std::string_view model, std::string_view action) {
  return "/model/" + percentEncode(model) + "/" + std::string(action);
}

Expected<json> toConverseBody(const json& body,
                              ModelFamily family,
                              const BedrockSettings& settings) {
  auto messages_in = body.find("messages");
  if (messages_in == body.end() || !messages_in->is_array()) {
    return badRequest("messages must be an array");
  }
  json system = json::array();
  json messages = json::array();
  for (const auto& message : *messages_in) {
    if (auto ok = appendOpenAiMessage(message, system, messages); !ok) {
      return ok.error();
    }
  }
  json out = {{"messages", std::move(messages)}};
  if (!system.empty()) {
    out["system"] = std::move(system);
  }
  if (json inference = inferenceConfig(body); !inference.empty()) {
    out["inferenceConfig"] = std::move(inference);
  }
  auto tools = toolConfig(body, out["messages"]);
  if (!tools) {
    return tools.error();
  }
  if (!tools->is_null()) {
    out["toolConfig"] = std::move(*tools);
  }
  if (json additional = additionalModelFields(body, family, settings); !additional.empty()) {
    out["additionalModelRequestFields"] = std::move(additional);
  }
  return out;
}

}  // namespace portico::providers::bedrock
