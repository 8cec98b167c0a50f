// OpenAI sampling options, response_format, tools and tool_choice -> Gemini generationConfig,
// tools and toolConfig; JSON Schema -> Gemini's OpenAPI subset.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

#include "google/gemini_json.hpp"
#include "google/gemini_mapping.hpp"

namespace portico::providers::gemini {

using nlohmann::json;
using namespace detail;

namespace {

bool isAllowedSchemaKey(std::string_view key) {
  static constexpr std::array<std::string_view, 22> kKeys = {
      "type",      "format",    "title",      "description", "nullable",      "enum",
      "maxItems",  "minItems",  "properties", "required",    "minProperties", "maxProperties",
      "minLength", "maxLength", "pattern",    "example",     "anyOf",         "propertyOrdering",
      "default",   "items",     "minimum",    "maximum"};
  return std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end();
}

// `type: [T, "null"]` -> type T + nullable; several non-null types become anyOf.
void cleanTypeList(const json& types, json& out) {
  json kept = json::array();
  for (const auto& type : types) {
    if (type == "null") {
      out["nullable"] = true;
    } else {
      kept.push_back(type);
    }
  }
  if (kept.size() == 1) {
    out["type"] = kept[0];
  } else if (!kept.empty()) {
    json variants = json::array();
    for (const auto& type : kept) {
      variants.push_back({{"type", type}});
    }
    out["anyOf"] = std::move(variants);
  }
}

// temperature, top_p, ... and the token limit and stop sequences.
void addSampling(const json& body, json& config) {
  static constexpr std::pair<const char*, const char*> kDirect[] = {
      {"temperature", "temperature"},
      {"top_p", "topP"},
      {"top_k", "topK"},
      {"n", "candidateCount"},
      {"seed", "seed"},
      {"presence_penalty", "presencePenalty"},
      {"frequency_penalty", "frequencyPenalty"},
  };
  for (const auto& [from, to] : kDirect) {
    if (const json* value = member(body, from)) {
      config[to] = *value;
    }
  }
  if (const json* value = member(body, "max_completion_tokens")) {
    config["maxOutputTokens"] = *value;
  } else if (const json* value = member(body, "max_tokens")) {
    config["maxOutputTokens"] = *value;
  }
  if (const json* stop = member(body, "stop")) {
    if (stop->is_string()) {
      config["stopSequences"] = json::array({*stop});
    } else if (stop->is_array()) {
      config["stopSequences"] = *stop;
    }
  }
}

std::optional<GatewayError> addResponseFormat(const json& body, json& config) {
  const json* format = member(body, "response_format");
  if (format == nullptr) {
    return std::nullopt;
  }
  std::string type = stringMember(*format, "type");
  if (type == "json_object") {
    config["responseMimeType"] = "application/json";
  } else if (type == "json_schema") {
    config["responseMimeType"] = "application/json";
    const json* spec = member(*format, "json_schema");
    const json* schema = spec != nullptr ? member(*spec, "schema") : nullptr;
    if (schema != nullptr) {
      config["responseSchema"] = cleanSchema(*schema);
    }
  } else if (!type.empty() && type != "text") {
    return badRequest("Unsupported response_format type: " + type);
  }
  return std::nullopt;
}

// One OpenAI function tool -> a functionDeclaration.
Expected<json> functionDeclaration(const json& tool) {
  const json* fn = member(tool, "function");
  if (fn == nullptr || stringMember(*fn, "name").empty()) {
    return badRequest("Each function tool needs function.name");
  }
  json declaration = {{"name", stringMember(*fn, "name")}};
  if (const json* description = member(*fn, "description")) {
    declaration["description"] = *description;
  }
  if (const json* parameters = member(*fn, "parameters")) {
    json cleaned = cleanSchema(*parameters);
    // Gemini rejects an OBJECT schema with no properties: a function without parameters is
    // declared without a schema.
    const json* properties = member(cleaned, "properties");
    if (properties != nullptr && !properties->empty()) {
      declaration["parameters"] = std::move(cleaned);
    }
  }
  return declaration;
}

// tool_choice -> functionCallingConfig (null when the choice says nothing Gemini knows).
Expected<json> functionCallingConfig(const json& choice) {
  json config;
  if (choice.is_string()) {
    const auto& mode = choice.get_ref<const std::string&>();
    if (mode == "auto") {
      config["mode"] = "AUTO";
    } else if (mode == "required") {
      config["mode"] = "ANY";
    } else if (mode == "none") {
      config["mode"] = "NONE";
    } else {
      return badRequest("Unsupported tool_choice: " + mode);
    }
  } else if (choice.is_object()) {
    const json* fn = member(choice, "function");
    std::string name = fn != nullptr ? stringMember(*fn, "name") : std::string();
    if (name.empty()) {
      return badRequest("tool_choice.function.name is required");
    }
    config["mode"] = "ANY";
    config["allowedFunctionNames"] = json::array({name});
  }
  return config;
}

}  // namespace

std::optional<GatewayError> addGenerationConfig(const json& body, json& out) {
  json config = json::object();
  addSampling(body, config);
  if (auto error = addResponseFormat(body, config)) {
    return error;
  }
  if (!config.empty()) {
    out["generationConfig"] = std::move(config);
  }
  return std::nullopt;
}

std::optional<GatewayError> addTools(const json& body, json& out) {
  json declarations = json::array();
  if (const json* tools = member(body, "tools"); tools != nullptr && tools->is_array()) {
    for (const auto& tool : *tools) {
      if (stringMember(tool, "type") != "function") {
        continue;  // only function tools have a Gemini equivalent
      }
      auto declaration = functionDeclaration(tool);
      if (!declaration) {
        return declaration.error();
      }
      declarations.push_back(std::move(*declaration));
    }
  }
  if (!declarations.empty()) {
    out["tools"] = json::array({{{"functionDeclarations", std::move(declarations)}}});
  }
  if (const json* choice = member(body, "tool_choice")) {
    auto config = functionCallingConfig(*choice);
    if (!config) {
      return config.error();
    }
    if (!config->is_null()) {
      out["toolConfig"] = {{"functionCallingConfig", std::move(*config)}};
    }
  }
  return std::nullopt;
}

json cleanSchema(const json& schema) {
  if (!schema.is_object()) {
    return schema;
  }
  json out = json::object();
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    if (!isAllowedSchemaKey(key)) {
      continue;
    }
    if (key == "properties" && it->is_object()) {
      json properties = json::object();
      for (auto prop = it->begin(); prop != it->end(); ++prop) {
        properties[prop.key()] = cleanSchema(*prop);
      }
      out[key] = std::move(properties);
    } else if (key == "items") {
      out[key] = cleanSchema(*it);
    } else if (key == "anyOf" && it->is_array()) {
      json variants = json::array();
      for (const auto& variant : *it) {
        variants.push_back(cleanSchema(variant));
      }
      out[key] = std::move(variants);
    } else if (key == "type" && it->is_array()) {
      cleanTypeList(*it, out);
    } else {
      out[key] = *it;
    }
  }
  return out;
}

}  // namespace portico::providers::gemini
