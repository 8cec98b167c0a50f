#include "cohere/cohere_adapter.hpp"
#include "common/stateless_call.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

constexpr std::string_view kId = "cohere";
constexpr std::size_t kMaxQuotedBytes = 2048;

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

long long countOf(const json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) {
    return value.get<long long>();
  }
  if (value.is_number_float()) {
    return static_cast<long long>(value.get<double>());
  }
  return 0;
}

std::string requestModel(const ClientRequest& request) {
  if (request.body != nullptr && request.body->is_object()) {
    auto it = request.body->find("model");
    if (it != request.body->end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return {};
}

MappedResponse invalidResponse(int status, std::string_view body) {
  return fromError(errors::providerError(
      status >= 200 && status < 300 ? 502 : status, kId,
      "Invalid response received from cohere: " + std::string(body.substr(0, kMaxQuotedBytes))));
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
             (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) {
      n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// OpenAI's base64 embedding: the little-endian float32 bytes of the vector.
std::string base64Floats(const json& vector) {
  std::string bytes;
  bytes.reserve(vector.size() * 4);
  for (const auto& value : vector) {
    float f = value.is_number() ? value.get<float>() : 0.0f;
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8) {
      bytes += static_cast<char>((bits >> shift) & 0xff);
    }
  }
  return base64(bytes);
}

Expected<json> toCohereEmbedBody(const json& body, const Target& target) {
  json texts = json::array();
  const json input = body.value("input", json());
  if (input.is_string()) {
    texts.push_back(input);
  } else if (input.is_array() && !input.empty() &&
             std::all_of(input.begin(), input.end(), [](const json& v) { return v.is_string(); })) {
    texts = input;
  } else {
    return badRequest("embeddings input must be a string or an array of strings");
  }
  std::string input_type = body.value("input_type", "");
  if (input_type.empty()) {
    input_type = target.option("input_type", "cohere_input_type");
  }
  json out = {{"texts", std::move(texts)},
              {"input_type", input_type.empty() ? "search_document" : input_type},
              {"embedding_types", json::array({"float"})}};
  if (auto it = body.find("model"); it != body.end()) {
    out["model"] = *it;
  }
  if (auto it = body.find("dimensions"); it != body.end()) {
    out["output_dimension"] = *it;
  }
  if (auto it = body.find("truncate"); it != body.end()) {
    out["truncate"] = *it;
  }
  return out;
}

MappedResponse mapChat(const ClientRequest& request, const Target& target, const json& parsed) {
  const bool strict = target.strict_open_ai_compliance;
  std::string reason = parsed.value("finish_reason", "");
  if (reason == "ERROR") {
    return fromError(
        errors::providerError(502, kId, "the generation failed (finish_reason ERROR)"));
  }
  const json message = parsed.value("message", json::object());
  std::string text;
  json tool_calls = json::array();
  if (message.is_object()) {
    const json content = message.value("content", json());
    text = content.is_string() ? content.get<std::string>() : textOf(content);
    auto calls = message.find("tool_calls");
    if (calls != message.end() && calls->is_array()) {
      tool_calls = toolCallsOf(*calls);
    }
  }
  json out_message = {{"role", "assistant"}};
  out_message["content"] = text.empty() && !tool_calls.empty() ? json(nullptr) : json(text);
  if (!tool_calls.empty()) {
    out_message["tool_calls"] = std::move(tool_calls);
  }
  if (!strict && message.is_object()) {
    for (const char* extra : {"tool_plan", "citations"}) {
      if (auto it = message.find(extra); it != message.end()) {
        out_message[extra] = *it;
      }
    }
  }
  json out = {
      {"id", parsed.value("id", json(""))},
      {"object", "chat.completion"},
      {"created", openai::unixSeconds(request.now)},
      {"model", requestModel(request)},
      {"provider", kId},
      {"choices", json::array({{{"index", 0},
                                {"message", std::move(out_message)},
                                {"logprobs", nullptr},
                                {"finish_reason", mapCohereFinishReason(reason, strict)}}})}};
  if (json usage = cohereUsageToOpenAi(parsed.value("usage", json())); !usage.is_null()) {
    out["usage"] = std::move(usage);
  }
  return MappedResponse{200, "application/json", out.dump()};
}

MappedResponse mapEmbed(const ClientRequest& request, const json& parsed) {
  const json embeddings = parsed.value("embeddings", json());
  const json vectors = embeddings.is_object() ? embeddings.value("float", json()) : embeddings;
  if (!vectors.is_array()) {
    return invalidResponse(200, parsed.dump());
  }
  const bool as_base64 = request.body != nullptr && request.body->is_object() &&
                         request.body->value("encoding_format", "") == "base64";
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    json embedding = as_base64 ? json(base64Floats(vectors[i])) : vectors[i];
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  long long tokens = 0;
  if (auto meta = parsed.find("meta"); meta != parsed.end() && meta->is_object()) {
    tokens = countOf(meta->value("billed_units", json::object()).value("input_tokens", json(0)));
  }
  json out = {{"object", "list"},
              {"data", std::move(data)},
              {"model", requestModel(request)},
              {"provider", kId},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  return MappedResponse{200, "application/json", out.dump()};
}

}  // namespace

// OpenAI usage from Cohere's: the token counts (what the model saw), else the billed units.
json cohereUsageToOpenAi(const json& usage) {
  if (!usage.is_object()) {
    return nullptr;
  }
  const json* counts = nullptr;
  for (const char* key : {"tokens", "billed_units"}) {
    auto it = usage.find(key);
    if (it != usage.end() && it->is_object() &&
        (it->contains("input_tokens") || it->contains("output_tokens"))) {
      counts = &*it;
      break;
    }
  }
  if (counts == nullptr) {
    return nullptr;
  }
  long long prompt = countOf(counts->value("input_tokens", json(0)));
  long long completion = countOf(counts->value("output_tokens", json(0)));
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion}};
}

std::string mapCohereFinishReason(std::string_view reason, bool strict) {
  if (!strict && !reason.empty()) {
    return std::string(reason);
  }
  if (reason == "MAX_TOKENS" || reason == "ERROR_LIMIT") {
    return "length";
  }
  if (reason == "TOOL_CALL") {
    return "tool_calls";
  }
  if (reason == "ERROR_TOXIC") {
    return "content_filter";
  }
  return "stop";  // COMPLETE, STOP_SEQUENCE, USER_CANCEL and anything new
}

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

  if (auto it = body.find("response_format"); it != body.end() && it->is_object()) {
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
  return out;
}

Expected<ProviderCallPtr> CohereAdapter::open(const ClientRequest& request,
                                         const Target& target) const {
  return openStateless(*this, request, target);
}

bool CohereAdapter::supports(Endpoint endpoint) const {
  return endpoint == Endpoint::kChatCompletions || endpoint == Endpoint::kEmbeddings ||
         endpoint == Endpoint::kPassthrough;
}

Expected<UpstreamRequest> CohereAdapter::buildRequest(const ClientRequest& request,
                                                      const Target& target) const {
  if (target.api_key.empty()) {
    return errors::missingApiKey(kId);
  }
  const bool passthrough = request.endpoint == Endpoint::kPassthrough;
  // A std::string: the branches mix literals and request.path, so the ternary makes a
  // temporary that a string_view would outlive.
  const std::string path = request.endpoint == Endpoint::kChatCompletions ? "/v2/chat"
                           : request.endpoint == Endpoint::kEmbeddings    ? "/v2/embed"
                                                                          : request.path;
  auto out = requestTo(kBaseUrl, path, request, target, passthrough);
  if (!out) {
    return out;
  }
  if (passthrough) {
    copyPassthroughHeaders(request, out->headers);
    out->body = bodyBytes(request);
  } else {
    if (request.body == nullptr || !request.body->is_object()) {
      return badRequest("the request body must be a JSON object");
    }
    Expected<json> body = json();
    try {
      body = request.endpoint == Endpoint::kChatCompletions
                 ? toCohereChatBody(*request.body)
                 : toCohereEmbedBody(*request.body, target);
    } catch (const json::exception&) {
      // A field of the wrong type (e.g. "role": 1).
      return badRequest("the request body has a field of an unexpected type");
    }
    if (!body) {
      return body.error();
    }
    out->body = body->dump(-1, ' ', false, json::error_handler_t::replace);
    setHeader(out->headers, "content-type", "application/json");
    if (request.stream) {
      setHeader(out->headers, "accept", "text/event-stream");
    }
  }
  setHeader(out->headers, "authorization", "Bearer " + target.api_key);
  copyForwardedHeaders(request, target, out->headers);
  return out;
}

MappedResponse CohereAdapter::mapResponse(const ClientRequest& request,
                                          const Target& target,
                                          UpstreamReply reply) const {
  if (reply.status < 200 || reply.status >= 300) {
    return normaliseError(kId, reply);
  }
  if (request.endpoint == Endpoint::kPassthrough) {
    return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
  }
  json parsed = parseJson(reply.body);
  if (!parsed.is_object()) {
    return invalidResponse(reply.status, reply.body);
  }
  try {
    return request.endpoint == Endpoint::kEmbeddings ? mapEmbed(request, parsed)
                                                     : mapChat(request, target, parsed);
  } catch (const json::exception&) {
    // A member of an unexpected type (e.g. "message": 3).
    return invalidResponse(reply.status, reply.body);
  }
}

std::unique_ptr<StreamTransformer> CohereAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& target) const {
  if (request.endpoint != Endpoint::kChatCompletions) {
    return nullptr;  // passthrough streams are relayed as they come
  }
  bool include_usage = false;
  if (request.body != nullptr && request.body->is_object()) {
    auto options = request.body->find("stream_options");
    if (options != request.body->end() && options->is_object()) {
      auto flag = options->find("include_usage");
      include_usage = flag != options->end() && *flag == true;
    }
  }
  auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(request.now.time_since_epoch()).count();
  return std::make_unique<CohereStreamTransformer>(requestModel(request), openai::unixSeconds(request.now),
                                                   now_ms, target.strict_open_ai_compliance,
                                                   include_usage);
}

}  // namespace portico::providers
