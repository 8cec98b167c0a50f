#include "bedrock/bedrock_adapter.hpp"
#include "common/stateless_call.hpp"

#include <cstdint>
#include <cstring>
#include <random>

#include "common/aws_sigv4.hpp"
#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

constexpr std::string_view kProvider = "bedrock";
constexpr std::string_view kDefaultRegion = "us-east-1";
constexpr std::size_t kMaxQuotedBytes = 2048;

GatewayError badRequest(std::string message) {
  return errors::failure(400, "bedrock: " + std::move(message));
}

bool isString(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string();
}

std::string stringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Region names become part of the host name, so only [a-z0-9-] may pass.
bool isValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 32) {
    return false;
  }
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

// ---- request: messages -------------------------------------------------------------------

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

// ---- request: tools ----------------------------------------------------------------------

Expected<json> toolConfig(const json& body, const json& messages) {
  auto tools = body.find("tools");
  if (tools == body.end() || !tools->is_array() || tools->empty()) {
    return json(nullptr);
  }
  json specs = json::array();
  for (const auto& tool : *tools) {
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
  json config = {{"tools", std::move(specs)}};
  auto choice = body.find("tool_choice");
  if (choice == body.end() || choice->is_null()) {
    return config;
  }
  if (choice->is_string()) {
    const auto& value = choice->get_ref<const std::string&>();
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
  } else if (choice->is_object() && choice->contains("function") &&
             (*choice)["function"].is_object()) {
    config["toolChoice"] = {{"tool", {{"name", stringField((*choice)["function"], "name")}}}};
  } else {
    return badRequest("unsupported tool_choice");
  }
  return config;
}

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// ---- auth --------------------------------------------------------------------------------

std::string hostHeaderFor(const UpstreamRequest& out) {
  std::string host = out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  const bool default_port =
      (out.scheme == "https" && out.port == "443") || (out.scheme == "http" && out.port == "80");
  return default_port ? host : host + ":" + out.port;
}

// Signs `out` exactly as it will be sent (its Host header, path, query, content-type and body),
// or adds the Bedrock API key when aws_auth_type is "apiKey". Secrets never reach a message.
Expected<bool> authorize(const Target& target,
                         const std::string& region,
                         std::chrono::system_clock::time_point now,
                         UpstreamRequest& out) {
  if (target.option("aws_auth_type") == "apiKey") {
    if (target.api_key.empty()) {
      return errors::missingApiKey(kProvider);
    }
    setHeader(out.headers, "authorization", "Bearer " + target.api_key);
    return true;
  }
  aws::Credentials creds{target.option("aws_access_key_id"), target.option("aws_secret_access_key"),
                         target.option("aws_session_token")};
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return errors::providerError(
        401, kProvider,
        "AWS credentials are missing: send x-portkey-aws-access-key-id and "
        "x-portkey-aws-secret-access-key (or aws_access_key_id / aws_secret_access_key in the "
        "config), or aws_auth_type apiKey with a Bedrock API key",
        "authentication_error");
  }
  aws::SigningInput in;
  in.method = out.method;
  in.host = hostHeaderFor(out);
  const auto question = out.target.find('?');
  in.path = out.target.substr(0, question);
  if (question != std::string::npos) {
    in.query = out.target.substr(question + 1);
  }
  if (auto content_type = findHeader(out.headers, "content-type")) {
    in.headers.emplace_back("content-type", std::string(*content_type));
  }
  in.payload = out.body;
  in.region = region;
  in.service = "bedrock";
  in.now = now;
  for (auto& [name, value] : aws::signRequest(in, creds)) {
    setHeader(out.headers, name, std::move(value));
  }
  return true;
}

// ---- embeddings helpers ------------------------------------------------------------------

std::string base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// OpenAI's base64 encoding: little-endian float32s.
std::string floatsAsBase64(const json& vector) {
  std::string raw;
  raw.reserve(vector.size() * 4);
  for (const auto& v : vector) {
    const float f = v.is_number() ? v.get<float>() : 0.0f;
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    for (int b = 0; b < 4; ++b) raw.push_back(static_cast<char>((bits >> (8 * b)) & 0xFF));
  }
  return base64Encode(raw);
}

std::string clipped(std::string_view body) { return std::string(body.substr(0, kMaxQuotedBytes)); }

}  // namespace

// ---- public helpers ----------------------------------------------------------------------

namespace bedrock {

std::string baseUrl(std::string_view region) {
  return "https://bedrock-runtime." + std::string(region) + ".amazonaws.com";
}

std::string modelPath(std::string_view model, std::string_view action) {
  return "/model/" + aws::encodePathSegment(model) + "/" + std::string(action);
}

Expected<json> toConverseBody(const json& body, std::string_view model, const Target& target) {
  auto messages_in = body.find("messages");
  if (messages_in == body.end() || !messages_in->is_array()) {
    return badRequest("messages must be an array");
  }
  json system = json::array();
  json messages = json::array();
  for (const auto& message : *messages_in) {
    if (!message.is_object()) {
      return badRequest("messages must be objects");
    }
    const std::string role = stringField(message, "role");
    const json content = message.contains("content") ? message["content"] : json(nullptr);
    if (role == "system" || role == "developer") {
      auto ok = appendContent(content, false, system);
      if (!ok) {
        return ok.error();
      }
    } else if (role == "user") {
      json blocks = json::array();
      auto ok = appendContent(content, true, blocks);
      if (!ok) {
        return ok.error();
      }
      if (blocks.empty()) {
        blocks.push_back({{"text", ""}});  // let Bedrock say what it thinks of blank input
      }
      appendMessage(messages, "user", std::move(blocks));
    } else if (role == "assistant") {
      json blocks = json::array();
      auto ok = appendContent(content, false, blocks);
      if (!ok) {
        return ok.error();
      }
      auto tool_uses =
          toolUseBlocks(message.contains("tool_calls") ? message["tool_calls"] : json(nullptr));
      if (!tool_uses) {
        return tool_uses.error();
      }
      for (auto& block : *tool_uses) blocks.push_back(std::move(block));
      if (blocks.empty()) {
        blocks.push_back({{"text", ""}});
      }
      appendMessage(messages, "assistant", std::move(blocks));
    } else if (role == "tool") {
      auto result = toolResultBlock(message);
      if (!result) {
        return result.error();
      }
      appendMessage(messages, "user", json::array({std::move(*result)}));
    } else {
      return badRequest("unsupported message role '" + role + "'");
    }
  }

  json out = {{"messages", std::move(messages)}};
  if (!system.empty()) {
    out["system"] = std::move(system);
  }

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
  if (!inference.empty()) {
    out["inferenceConfig"] = std::move(inference);
  }

  auto tools = toolConfig(body, out["messages"]);
  if (!tools) {
    return tools.error();
  }
  if (!tools->is_null()) {
    out["toolConfig"] = std::move(*tools);
  }

  // Model-specific fields Converse does not model itself.
  json additional = json::object();
  if (auto it = body.find("additional_model_request_fields"); it != body.end() && it->is_object()) {
    additional = *it;
  }
  if (auto it = body.find("top_k"); it != body.end() && it->is_number()) {
    additional["top_k"] = *it;
  }
  const std::string model_lower = lowerCopy(model);
  if (model_lower.find("anthropic.") != std::string::npos) {
    std::string beta = target.option("anthropic_beta");
    if (!beta.empty()) {
      json list = json::array();
      std::size_t pos = 0;
      while (pos <= beta.size()) {
        auto comma = beta.find(',', pos);
        if (comma == std::string::npos) comma = beta.size();
        std::string item = beta.substr(pos, comma - pos);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) list.push_back(item);
        pos = comma + 1;
      }
      if (!list.empty()) additional["anthropic_beta"] = std::move(list);
    }
  }
  if (!additional.empty()) {
    out["additionalModelRequestFields"] = std::move(additional);
  }
  return out;
}

std::string finishReason(std::string_view stop_reason) {
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return "length";
  }
  if (stop_reason == "guardrail_intervened" || stop_reason == "content_filtered") {
    return "content_filter";
  }
  return "stop";  // end_turn, stop_sequence and anything new
}

json usage(const json& in) {
  auto count = [&](const char* key) -> long long {
    auto it = in.find(key);
    return it != in.end() && it->is_number_integer() ? it->get<long long>() : 0;
  };
  const long long cache_read = count("cacheReadInputTokens");
  const long long prompt = count("inputTokens") + cache_read + count("cacheWriteInputTokens");
  const long long completion = count("outputTokens");
  long long total = count("totalTokens");
  if (total == 0) total = prompt + completion;
  return json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", total},
              {"prompt_tokens_details", {{"cached_tokens", cache_read}}}};
}

Expected<json> fromConverseResponse(const json& converse,
                                    std::string_view id,
                                    std::string_view model,
                                    long long created,
                                    bool strict) {
  const json* content = nullptr;
  if (converse.is_object() && converse.contains("output") && converse["output"].is_object() &&
      converse["output"].contains("message") && converse["output"]["message"].is_object()) {
    const json& message = converse["output"]["message"];
    if (message.contains("content") && message["content"].is_array()) {
      content = &message["content"];
    }
  }
  if (content == nullptr) {
    return errors::providerError(
        502, kProvider, "Invalid response received from bedrock: " + clipped(converse.dump()));
  }
  std::string text;
  bool has_text = false;
  json tool_calls = json::array();
  for (const auto& block : *content) {
    if (!block.is_object()) continue;
    if (isString(block, "text")) {
      if (has_text) text += "\n";
      text += block["text"].get<std::string>();
      has_text = true;
    } else if (block.contains("toolUse") && block["toolUse"].is_object()) {
      const json& use = block["toolUse"];
      json input = use.contains("input") ? use["input"] : json::object();
      tool_calls.push_back(
          {{"id", stringField(use, "toolUseId")},
           {"type", "function"},
           {"function", {{"name", stringField(use, "name")}, {"arguments", input.dump()}}}});
    }
  }
  json message = {{"role", "assistant"}, {"content", has_text ? json(text) : json(nullptr)}};
  if (!tool_calls.empty()) {
    message["tool_calls"] = std::move(tool_calls);
  }
  const std::string stop = stringField(converse, "stopReason");
  json result = {
      {"id", id},
      {"object", "chat.completion"},
      {"created", created},
      {"model", model},
      {"provider", kProvider},
      {"choices",
       json::array({{{"index", 0},
                     {"message", std::move(message)},
                     {"logprobs", nullptr},
                     {"finish_reason", strict || stop.empty() ? finishReason(stop) : stop}}})}};
  if (converse.contains("usage") && converse["usage"].is_object()) {
    result["usage"] = usage(converse["usage"]);
  }
  return result;
}

MappedResponse mapError(const UpstreamReply& reply) {
  json parsed = parseJson(reply.body);
  if (!parsed.is_object()) {
    std::string text = clipped(reply.body);
    if (text.empty()) text = "empty response with status " + std::to_string(reply.status);
    return fromError(errors::providerError(reply.status, kProvider, text));
  }
  std::string message = stringField(parsed, "message");
  if (message.empty()) message = stringField(parsed, "Message");
  if (message.empty()) message = clipped(parsed.dump());
  // "__type" looks like "ThrottlingException:http://internal.amazon.com/coral/..." or
  // "com.amazon.coral.validate#ValidationException".
  json type = nullptr;
  // AWS names the error in x-amzn-errortype; older answers carry it in the body's "__type".
  std::string raw_type(findHeader(reply.headers, "x-amzn-errortype").value_or(""));
  if (raw_type.empty()) raw_type = stringField(parsed, "__type");
  if (auto colon = raw_type.find(':'); colon != std::string::npos) raw_type.erase(colon);
  if (auto hash = raw_type.rfind('#'); hash != std::string::npos) raw_type.erase(0, hash + 1);
  if (!raw_type.empty()) type = raw_type;
  return fromError(errors::providerError(reply.status, kProvider, message, std::move(type)));
}

bool isTitanEmbedModel(std::string_view model) {
  return lowerCopy(model).find("amazon.titan-embed") != std::string::npos;
}

bool isCohereEmbedModel(std::string_view model) {
  return lowerCopy(model).find("cohere.embed") != std::string::npos;
}

Expected<json> toEmbedBody(const json& body, std::string_view model) {
  auto input = body.find("input");
  if (input == body.end()) {
    return badRequest("input is required");
  }
  std::vector<std::string> texts;
  if (input->is_string()) {
    texts.push_back(input->get<std::string>());
  } else if (input->is_array()) {
    for (const auto& item : *input) {
      if (!item.is_string()) {
        return badRequest("embedding input must be text (token arrays are not supported)");
      }
      texts.push_back(item.get<std::string>());
    }
  } else {
    return badRequest("input must be a string or an array of strings");
  }
  if (texts.empty()) {
    return badRequest("input must not be empty");
  }
  if (isTitanEmbedModel(model)) {
    if (texts.size() != 1) {
      return badRequest("Titan embedding models take one input per request; send " +
                        std::to_string(texts.size()) + " requests, or use a cohere.embed model");
    }
    json out = {{"inputText", texts.front()}};
    if (auto it = body.find("dimensions"); it != body.end() && it->is_number_integer()) {
      out["dimensions"] = *it;
    }
    return out;
  }
  if (isCohereEmbedModel(model)) {
    std::string input_type = stringField(body, "input_type");
    return json{{"texts", texts},
                {"input_type", input_type.empty() ? "search_document" : input_type}};
  }
  return badRequest(
      "embeddings are supported for amazon.titan-embed-* and cohere.embed-* "
      "models, not '" +
      std::string(model) + "'");
}

Expected<json> fromEmbedResponse(const json& upstream, std::string_view model) {
  json vectors = json::array();
  long long tokens = 0;
  if (upstream.is_object() && upstream.contains("embedding") && upstream["embedding"].is_array()) {
    vectors.push_back(upstream["embedding"]);
    if (upstream.contains("inputTextTokenCount") &&
        upstream["inputTextTokenCount"].is_number_integer()) {
      tokens = upstream["inputTextTokenCount"].get<long long>();
    }
  } else if (upstream.is_object() && upstream.contains("embeddings")) {
    const json& e = upstream["embeddings"];
    // Cohere answers a list of vectors, or {"float": [...]} when embedding_types was given.
    if (e.is_array()) {
      vectors = e;
    } else if (e.is_object() && e.contains("float") && e["float"].is_array()) {
      vectors = e["float"];
    }
  }
  if (vectors.empty()) {
    return errors::providerError(
        502, kProvider, "Invalid response received from bedrock: " + clipped(upstream.dump()));
  }
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vectors[i]}});
  }
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"model", model},
              {"provider", kProvider},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

std::string newCompletionId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "chatcmpl-bedrock-";
  for (int i = 0; i < 2; ++i) {
    std::uint64_t v = rng();
    for (int j = 0; j < 12; ++j, v >>= 4) id.push_back(kHex[v & 0xF]);
  }
  return id;
}

}  // namespace bedrock

// ---- adapter -----------------------------------------------------------------------------

Expected<ProviderCallPtr> BedrockAdapter::open(const ClientRequest& request,
                                         const Target& target) const {
  return openStateless(*this, request, target);
}

bool BedrockAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kEmbeddings:
    case Endpoint::kPassthrough:
      return true;
    case Endpoint::kCompletions:
    case Endpoint::kMessages:
      return false;
  }
  return false;
}

Expected<UpstreamRequest> BedrockAdapter::buildRequest(const ClientRequest& request,
                                                       const Target& target) const {
  std::string region = target.option("aws_region");
  if (region.empty()) region = std::string(kDefaultRegion);
  if (!isValidRegion(region)) {
    return badRequest("invalid aws_region");
  }
  const std::string base = bedrock::baseUrl(region);

  if (request.endpoint == Endpoint::kPassthrough) {
    auto out = requestTo(base, request.path, request, target, true);
    if (!out) return out;
    copyPassthroughHeaders(request, out->headers);
    out->body = bodyBytes(request);
    auto auth = authorize(target, region, request.now, *out);
    if (!auth) return auth.error();
    return out;
  }

  if (request.body == nullptr || !request.body->is_object()) {
    return badRequest("the request body must be a JSON object");
  }
  const json& body = *request.body;
  const std::string model = stringField(body, "model");
  if (model.empty()) {
    // Portkey answers 500 here; it is the client's mistake, so 400. A gateway exception stops
    // a fallback chain, as in Portkey.
    GatewayError error = errors::failure(400, "Model is required");
    error.gateway_exception = true;
    return error;
  }

  std::string action;
  Expected<json> upstream_body = json(nullptr);
  if (request.endpoint == Endpoint::kEmbeddings) {
    action = "invoke";
    upstream_body = bedrock::toEmbedBody(body, model);
  } else if (request.endpoint == Endpoint::kChatCompletions) {
    action = request.stream ? "converse-stream" : "converse";
    upstream_body = bedrock::toConverseBody(body, model, target);
  } else {
    return errors::unsupportedEndpoint(endpointName(request.endpoint), kProvider);
  }
  if (!upstream_body) {
    return upstream_body.error();
  }

  auto out = requestTo(base, bedrock::modelPath(model, action), request, target, false);
  if (!out) return out;
  out->method = "POST";
  out->headers.emplace_back("content-type", "application/json");
  out->body = upstream_body->dump(-1, ' ', false, json::error_handler_t::replace);
  // Forwarded headers are not signed: AWS checks only the headers the signature names.
  copyForwardedHeaders(request, target, out->headers);
  auto auth = authorize(target, region, request.now, *out);
  if (!auth) return auth.error();
  return out;
}

MappedResponse BedrockAdapter::mapResponse(const ClientRequest& request,
                                           const Target& target,
                                           UpstreamReply reply) const {
  if (reply.status < 200 || reply.status >= 300) {
    return bedrock::mapError(reply);
  }
  if (request.endpoint == Endpoint::kPassthrough) {
    return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
  }
  json parsed = parseJson(reply.body);
  if (parsed.is_discarded()) {
    return fromError(errors::providerError(
        502, kProvider, "Invalid response received from bedrock: " + clipped(reply.body)));
  }
  const std::string model =
      request.body != nullptr ? stringField(*request.body, "model") : std::string();
  if (request.endpoint == Endpoint::kEmbeddings) {
    auto mapped = bedrock::fromEmbedResponse(parsed, model);
    if (!mapped) return fromError(mapped.error());
    if (request.body != nullptr && stringField(*request.body, "encoding_format") == "base64") {
      for (auto& item : (*mapped)["data"]) item["embedding"] = floatsAsBase64(item["embedding"]);
    }
    return MappedResponse{200, "application/json", mapped->dump()};
  }
  auto mapped =
      bedrock::fromConverseResponse(parsed, bedrock::newCompletionId(), model,
                                    openai::unixSeconds(request.now), target.strict_open_ai_compliance);
  if (!mapped) return fromError(mapped.error());
  return MappedResponse{200, "application/json",
                        mapped->dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::vector<json> BedrockAdapter::splitRequest(const ClientRequest& request,
                                               const Target& /*target*/) const {
  if (request.endpoint != Endpoint::kEmbeddings || request.body == nullptr ||
      !request.body->is_object() ||
      !bedrock::isTitanEmbedModel(stringField(*request.body, "model"))) {
    return {};
  }
  auto input = request.body->find("input");
  if (input == request.body->end() || !input->is_array() || input->size() < 2) {
    return {};
  }
  std::vector<json> parts;
  parts.reserve(input->size());
  for (const auto& item : *input) {
    if (!item.is_string()) {
      return {};  // buildRequest() explains what Titan takes
    }
    json part = *request.body;
    part["input"] = item;
    parts.push_back(std::move(part));
  }
  return parts;
}

MappedResponse BedrockAdapter::joinResponses(const ClientRequest& request,
                                             const Target& /*target*/,
                                             std::vector<MappedResponse> parts) const {
  json data = json::array();
  long long tokens = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    json answer = parseJson(parts[i].body);
    if (!answer.is_object() || !answer.contains("data") || !answer["data"].is_array() ||
        answer["data"].empty()) {
      return fromError(errors::providerError(502, kProvider, "Invalid embedding answer"));
    }
    json item = std::move(answer["data"][0]);
    item["index"] = i;
    data.push_back(std::move(item));
    if (auto usage = answer.find("usage"); usage != answer.end() && usage->is_object()) {
      tokens += usage->value("prompt_tokens", 0LL);
    }
  }
  json joined = {{"object", "list"},
                 {"data", std::move(data)},
                 {"model", request.body != nullptr ? stringField(*request.body, "model") : ""},
                 {"provider", kProvider},
                 {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  return MappedResponse{200, "application/json", joined.dump()};
}

std::unique_ptr<StreamTransformer> BedrockAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& target) const {
  if (request.endpoint != Endpoint::kChatCompletions) {
    return nullptr;
  }
  std::string model;
  bool include_usage = false;
  if (request.body != nullptr) {
    model = stringField(*request.body, "model");
    auto options = request.body->find("stream_options");
    if (options != request.body->end() && options->is_object()) {
      auto it = options->find("include_usage");
      include_usage = it != options->end() && it->is_boolean() && it->get<bool>();
    }
  }
  return std::make_unique<BedrockStreamTransformer>(bedrock::newCompletionId(), std::move(model),
                                                    openai::unixSeconds(request.now), include_usage,
                                                    target.strict_open_ai_compliance);
}

// ---- stream ------------------------------------------------------------------------------

BedrockStreamTransformer::BedrockStreamTransformer(
    std::string id, std::string model, long long created, bool include_usage, bool strict)
    : id_(std::move(id)),
      model_(std::move(model)),
      created_(created),
      include_usage_(include_usage),
      strict_(strict) {}

json BedrockStreamTransformer::chunk() const { return openai::chatChunk(id_, model_, created_, kProvider); }

void BedrockStreamTransformer::emitDelta(json delta, std::string& out) {
  json c = chunk();
  c["choices"].push_back({{"index", 0},
                          {"delta", std::move(delta)},
                          {"logprobs", nullptr},
                          {"finish_reason", nullptr}});
  out += openai::sseData(c);
}

void BedrockStreamTransformer::fail(std::string_view message, json type, std::string& out) {
  out += openai::sseError(kProvider, message, std::move(type));
  ended_ = true;
}

void BedrockStreamTransformer::feed(std::string_view bytes, std::string& out) {
  if (ended_) return;
  messages_.clear();
  const auto status = parser_.feed(bytes, messages_);
  // Messages decoded before a corrupt frame are still good.
  for (const auto& message : messages_) {
    if (ended_) return;
    handle(message, out);
  }
  if (status == stream::AwsEventStreamParser::Status::kError && !ended_) {
    fail("invalid event stream from upstream: " + parser_.errorMessage(), "upstream_stream_error",
         out);
  }
}

void BedrockStreamTransformer::handle(const stream::EventStreamMessage& message, std::string& out) {
  const std::string kind = message.header(":message-type");
  if (kind == "exception") {
    std::string text;
    json payload = parseJson(message.payload);
    if (payload.is_object()) {
      text = stringField(payload, "message");
      if (text.empty()) text = stringField(payload, "Message");
    }
    if (text.empty()) text = clipped(message.payload);
    std::string type = message.header(":exception-type");
    fail(text, type.empty() ? json("upstream_stream_error") : json(type), out);
    return;
  }
  if (kind == "error") {
    std::string code = message.header(":error-code");
    fail(message.header(":error-message"),
         code.empty() ? json("upstream_stream_error") : json(code), out);
    return;
  }
  if (kind != "event") {
    return;  // unknown message types are ignored
  }
  json payload = parseJson(message.payload);
  if (!payload.is_object()) {
    fail("malformed event payload from upstream: " + clipped(message.payload),
         "upstream_stream_error", out);
    return;
  }
  handleEvent(message.header(":event-type"), payload, out);
}

void BedrockStreamTransformer::handleEvent(std::string_view type,
                                           const json& payload,
                                           std::string& out) {
  if (type == "messageStart") {
    emitDelta({{"role", "assistant"}, {"content", ""}}, out);
  } else if (type == "contentBlockStart") {
    auto start = payload.find("start");
    if (start == payload.end() || !start->is_object() || !start->contains("toolUse")) return;
    const json& use = (*start)["toolUse"];
    const long long block = payload.value("contentBlockIndex", 0LL);
    const int index = next_tool_index_++;
    tool_index_[block] = index;
    emitDelta(
        {{"tool_calls",
          json::array({{{"index", index},
                        {"id", stringField(use, "toolUseId")},
                        {"type", "function"},
                        {"function", {{"name", stringField(use, "name")}, {"arguments", ""}}}}})}},
        out);
  } else if (type == "contentBlockDelta") {
    auto delta = payload.find("delta");
    if (delta == payload.end() || !delta->is_object()) return;
    if (isString(*delta, "text")) {
      emitDelta({{"content", (*delta)["text"]}}, out);
    } else if (delta->contains("toolUse") && (*delta)["toolUse"].is_object()) {
      const long long block = payload.value("contentBlockIndex", 0LL);
      auto it = tool_index_.find(block);
      if (it == tool_index_.end()) {
        // A delta without its start: give it a slot rather than dropping the arguments.
        it = tool_index_.emplace(block, next_tool_index_++).first;
      }
      emitDelta({{"tool_calls",
                  json::array({{{"index", it->second},
                                {"function",
                                 {{"arguments", stringField((*delta)["toolUse"], "input")}}}}})}},
                out);
    }
    // reasoningContent and other deltas have no OpenAI counterpart in strict mode.
  } else if (type == "messageStop") {
    const std::string stop = stringField(payload, "stopReason");
    json c = chunk();
    c["choices"].push_back(
        {{"index", 0},
         {"delta", json::object()},
         {"logprobs", nullptr},
         {"finish_reason", strict_ || stop.empty() ? bedrock::finishReason(stop) : stop}});
    // Held until metadata, which follows with the usage: without include_usage the usage goes
    // on this finishing chunk (once), as for every other provider.
    pending_finish_ = std::move(c);
    finish_sent_ = true;
  } else if (type == "metadata") {
    const bool has_usage = payload.contains("usage") && payload["usage"].is_object();
    if (!pending_finish_.is_null()) {
      if (has_usage && !include_usage_) {
        pending_finish_["usage"] = bedrock::usage(payload["usage"]);
      }
      out += openai::sseData(pending_finish_);
      pending_finish_ = nullptr;
    }
    if (include_usage_ && has_usage) {
      json c = chunk();
      c["usage"] = bedrock::usage(payload["usage"]);
      out += openai::sseData(c);
    }
    if (finish_sent_) {
      out += openai::sseDone();
      ended_ = true;
    }
  }
  // contentBlockStop and unknown events carry nothing for the client.
}

void BedrockStreamTransformer::finish(bool complete, std::string& out) {
  if (ended_) return;
  if (!complete) {
    fail("the upstream connection broke mid-stream", "upstream_stream_error", out);
    return;
  }
  if (parser_.buffered() > 0) {
    fail("the upstream stream ended inside an event-stream frame", "upstream_stream_error", out);
    return;
  }
  if (!finish_sent_) {
    fail("the upstream stream ended before messageStop", "upstream_stream_error", out);
    return;
  }
  // messageStop came but no metadata: the answer is whole, so end it normally.
  if (!pending_finish_.is_null()) {
    out += openai::sseData(pending_finish_);
    pending_finish_ = nullptr;
  }
  out += openai::sseDone();
  ended_ = true;
}

}  // namespace portico::providers
