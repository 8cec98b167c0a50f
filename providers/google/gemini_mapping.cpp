#include "google/gemini_mapping.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "portico/json_parse.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers::gemini {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxQuotedBytes = 1024;

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string stringMember(const json& object, const char* key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

GatewayError badRequest(std::string message) { return errors::failure(400, std::move(message)); }

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// A MIME type for a file URL from its extension; Gemini requires one in fileData.
std::string mimeFromUrl(std::string_view url) {
  auto end = url.find_first_of("?#");
  std::string_view path = url.substr(0, end);
  auto dot = path.rfind('.');
  auto slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "image/jpeg";
  }
  static const std::map<std::string, std::string> kTypes = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"}, {"gif", "image/gif"},       {"heic", "image/heic"},
      {"heif", "image/heif"}, {"pdf", "application/pdf"}, {"txt", "text/plain"},
      {"mp3", "audio/mp3"},   {"wav", "audio/wav"},       {"ogg", "audio/ogg"},
      {"flac", "audio/flac"}, {"aac", "audio/aac"},       {"mp4", "video/mp4"},
      {"mov", "video/mov"},   {"webm", "video/webm"},     {"mpeg", "video/mpeg"},
      {"csv", "text/csv"},    {"html", "text/html"},      {"md", "text/md"},
  };
  auto it = kTypes.find(lower(path.substr(dot + 1)));
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
    std::string type = stringMember(part, "type");
    if (type == "text") {
      std::string text = stringMember(part, "text");
      if (!text.empty()) {
        parts.push_back({{"text", text}});
      }
    } else if (type == "image_url") {
      const json* image = member(part, "image_url");
      std::string url = image == nullptr     ? ""
                        : image->is_string() ? image->get<std::string>()
                                             : stringMember(*image, "url");
      std::string mime = image != nullptr ? stringMember(*image, "mime_type") : std::string();
      auto media = mediaPart(url, mime);
      if (!media) {
        return media.error();
      }
      parts.push_back(std::move(*media));
    } else if (type == "input_audio") {
      const json* audio = member(part, "input_audio");
      if (audio == nullptr) {
        return badRequest("input_audio part without input_audio");
      }
      std::string format = stringMember(*audio, "format");
      parts.push_back({{"inlineData",
                        {{"mimeType", "audio/" + (format.empty() ? std::string("wav") : format)},
                         {"data", stringMember(*audio, "data")}}}});
    } else if (type == "file") {
      const json* file = member(part, "file");
      std::string data = file != nullptr ? stringMember(*file, "file_data") : std::string();
      std::string id = file != nullptr ? stringMember(*file, "file_id") : std::string();
      std::string mime = file != nullptr ? stringMember(*file, "mime_type") : std::string();
      auto media = mediaPart(!data.empty() ? data : id, mime);
      if (!media) {
        return media.error();
      }
      parts.push_back(std::move(*media));
    }
    // Other part types (refusal, ...) have no Gemini equivalent and are dropped.
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

void appendContent(json& contents, const std::string& role, json parts) {
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

bool isAllowedSchemaKey(std::string_view key) {
  static constexpr std::array<std::string_view, 22> kKeys = {
      "type",      "format",    "title",      "description", "nullable",      "enum",
      "maxItems",  "minItems",  "properties", "required",    "minProperties", "maxProperties",
      "minLength", "maxLength", "pattern",    "example",     "anyOf",         "propertyOrdering",
      "default",   "items",     "minimum",    "maximum"};
  for (auto allowed : kKeys) {
    if (key == allowed) {
      return true;
    }
  }
  return false;
}

std::optional<GatewayError> mapGenerationConfig(const json& body, json& config) {
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
  if (const json* format = member(body, "response_format")) {
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
  }
  return std::nullopt;
}

std::optional<GatewayError> mapTools(const json& body, json& out) {
  json declarations = json::array();
  if (const json* tools = member(body, "tools"); tools != nullptr && tools->is_array()) {
    for (const auto& tool : *tools) {
      if (stringMember(tool, "type") != "function") {
        continue;  // only function tools have a Gemini equivalent
      }
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
        // Gemini rejects an OBJECT schema with no properties: a function without parameters
        // is declared without a schema.
        const json* properties = member(cleaned, "properties");
        if (properties != nullptr && !properties->empty()) {
          declaration["parameters"] = std::move(cleaned);
        }
      }
      declarations.push_back(std::move(declaration));
    }
  }
  if (!declarations.empty()) {
    out["tools"] = json::array({{{"functionDeclarations", std::move(declarations)}}});
  }
  if (const json* choice = member(body, "tool_choice")) {
    json config;
    if (choice->is_string()) {
      const auto& mode = choice->get_ref<const std::string&>();
      if (mode == "auto") {
        config["mode"] = "AUTO";
      } else if (mode == "required") {
        config["mode"] = "ANY";
      } else if (mode == "none") {
        config["mode"] = "NONE";
      } else {
        return badRequest("Unsupported tool_choice: " + mode);
      }
    } else if (choice->is_object()) {
      const json* fn = member(*choice, "function");
      std::string name = fn != nullptr ? stringMember(*fn, "name") : std::string();
      if (name.empty()) {
        return badRequest("tool_choice.function.name is required");
      }
      config["mode"] = "ANY";
      config["allowedFunctionNames"] = json::array({name});
    }
    if (!config.is_null()) {
      out["toolConfig"] = {{"functionCallingConfig", std::move(config)}};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string newId() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    for (auto& b : bytes) {
      b = static_cast<unsigned char>(engine());
    }
  }
  return "portico-" + hex(bytes.data(), bytes.size());
}

std::string modelPathSegment(std::string_view model) {
  if (model.starts_with("models/")) {
    model.remove_prefix(7);
  }
  std::string out;
  for (unsigned char c : model) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex(&c, 1);
    }
  }
  return out;
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
      // ["string", "null"] -> "string" + nullable.
      json types = json::array();
      for (const auto& t : *it) {
        if (t == "null") {
          out["nullable"] = true;
        } else {
          types.push_back(t);
        }
      }
      if (types.size() == 1) {
        out["type"] = types[0];
      } else if (!types.empty()) {
        json variants = json::array();
        for (const auto& t : types) {
          variants.push_back({{"type", t}});
        }
        out["anyOf"] = std::move(variants);
      }
    } else {
      out[key] = *it;
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
    json out = json::object();
    json contents = json::array();
    json system_parts = json::array();
    // tool_call_id -> function name, from earlier assistant messages: Gemini's functionResponse
    // needs the function's name, OpenAI's tool message only carries the call id.
    std::map<std::string, std::string> call_names;

    for (const auto& message : *messages) {
      std::string role = stringMember(message, "role");
      const json empty;
      const json* content = member(message, "content");
      const json& content_ref = content != nullptr ? *content : empty;
      json parts = json::array();
      if (role == "system" || role == "developer") {
        if (auto error = contentParts(content_ref, system_parts)) {
          return *error;
        }
      } else if (role == "user") {
        if (auto error = contentParts(content_ref, parts)) {
          return *error;
        }
        appendContent(contents, "user", std::move(parts));
      } else if (role == "assistant") {
        if (auto error = contentParts(content_ref, parts)) {
          return *error;
        }
        if (const json* calls = member(message, "tool_calls"); calls && calls->is_array()) {
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
            call_names[stringMember(call, "id")] = name;
            parts.push_back({{"functionCall", {{"name", name}, {"args", std::move(args)}}}});
          }
        }
        appendContent(contents, "model", std::move(parts));
      } else if (role == "tool" || role == "function") {
        std::string name = stringMember(message, "name");
        if (role == "tool") {
          auto it = call_names.find(stringMember(message, "tool_call_id"));
          if (it != call_names.end()) {
            name = it->second;
          }
        }
        if (name.empty()) {
          return badRequest(
              "A tool message must answer an earlier assistant tool call (tool_call_id)");
        }
        parts.push_back(
            {{"functionResponse", {{"name", name}, {"response", toolResponse(content_ref)}}}});
        appendContent(contents, "user", std::move(parts));
      } else {
        return badRequest("Unsupported message role: " + role);
      }
    }
    out["contents"] = std::move(contents);
    if (!system_parts.empty()) {
      out["systemInstruction"] = {{"parts", std::move(system_parts)}};
    }
    json config = json::object();
    if (auto error = mapGenerationConfig(body, config)) {
      return *error;
    }
    if (!config.empty()) {
      out["generationConfig"] = std::move(config);
    }
    if (auto error = mapTools(body, out)) {
      return *error;
    }
    return out;
  } catch (const std::exception& e) {
    return badRequest(std::string("Invalid request body: ") + e.what());
  }
}

std::string finishReason(std::string_view reason, bool has_tool_calls) {
  if (reason == "MAX_TOKENS") {
    return "length";
  }
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" ||
      reason == "PROHIBITED_CONTENT" || reason == "SPII" || reason == "IMAGE_SAFETY") {
    return "content_filter";
  }
  return has_tool_calls ? "tool_calls" : "stop";
}

json openAiUsage(const json& metadata) {
  auto count = [&](const char* key) -> long long {
    const json* value = member(metadata, key);
    return value != nullptr && value->is_number_integer() ? value->get<long long>() : 0;
  };
  long long prompt = count("promptTokenCount");
  long long thoughts = count("thoughtsTokenCount");
  long long completion = count("candidatesTokenCount") + thoughts;
  const json* total = member(metadata, "totalTokenCount");
  return json{
      {"prompt_tokens", prompt},
      {"completion_tokens", completion},
      {"total_tokens", total != nullptr && total->is_number_integer() ? total->get<long long>()
                                                                      : prompt + completion},
      {"prompt_tokens_details", {{"cached_tokens", count("cachedContentTokenCount")}}},
      {"completion_tokens_details", {{"reasoning_tokens", thoughts}}}};
}

namespace {

// The text and tool calls of one candidate's parts. Thought parts are not answer text.
struct CandidateParts {
  std::string text;
  bool has_text = false;
  json tool_calls = json::array();
};

CandidateParts readParts(const json& candidate) {
  CandidateParts out;
  const json* content = member(candidate, "content");
  const json* parts = content != nullptr ? member(*content, "parts") : nullptr;
  if (parts == nullptr || !parts->is_array()) {
    return out;
  }
  for (const auto& part : *parts) {
    if (const json* thought = member(part, "thought"); thought != nullptr && *thought == true) {
      continue;
    }
    if (const json* text = member(part, "text"); text != nullptr && text->is_string()) {
      out.text += text->get<std::string>();
      out.has_text = true;
    }
    if (const json* call = member(part, "functionCall")) {
      const json* args = member(*call, "args");
      out.tool_calls.push_back(
          {{"id", newId()},
           {"type", "function"},
           {"function",
            {{"name", stringMember(*call, "name")},
             {"arguments", args != nullptr ? args->dump() : std::string("{}")}}}});
    }
  }
  return out;
}

std::string modelOf(const json& response, std::string_view fallback) {
  std::string version = stringMember(response, "modelVersion");
  return version.empty() ? std::string(fallback) : version;
}

std::string blockReason(const json& response) {
  const json* feedback = member(response, "promptFeedback");
  return feedback != nullptr ? stringMember(*feedback, "blockReason") : std::string();
}

MappedResponse invalidResponse(std::string_view provider, int status, std::string_view body) {
  return fromError(errors::providerError(status >= 200 && status < 300 ? 502 : status, provider,
                                         "Invalid response received from " + std::string(provider) +
                                             ": " + std::string(body.substr(0, kMaxQuotedBytes))));
}

}  // namespace

MappedResponse chatResponse(const ResponseContext& ctx, std::string_view body) {
  json response = parseJson(body);
  if (!response.is_object()) {
    return invalidResponse(ctx.provider, 200, body);
  }
  try {
    json choices = json::array();
    const json* candidates = member(response, "candidates");
    if (candidates != nullptr && candidates->is_array() && !candidates->empty()) {
      std::size_t position = 0;
      for (const auto& candidate : *candidates) {
        CandidateParts parts = readParts(candidate);
        bool calls = !parts.tool_calls.empty();
        json message = {{"role", "assistant"},
                        {"content", parts.has_text ? json(parts.text) : json(nullptr)}};
        if (calls) {
          message["tool_calls"] = std::move(parts.tool_calls);
        }
        const json* index = member(candidate, "index");
        choices.push_back(
            {{"index", index != nullptr && index->is_number_integer() ? *index : json(position)},
             {"message", std::move(message)},
             {"logprobs", nullptr},
             {"finish_reason", finishReason(stringMember(candidate, "finishReason"), calls)}});
        ++position;
      }
    } else if (!blockReason(response).empty()) {
      // The prompt itself was blocked: no candidates, only promptFeedback.
      choices.push_back({{"index", 0},
                         {"message", {{"role", "assistant"}, {"content", nullptr}}},
                         {"logprobs", nullptr},
                         {"finish_reason", "content_filter"}});
    } else {
      return invalidResponse(ctx.provider, 200, body);
    }
    json out = {{"id", newId()},
                {"object", "chat.completion"},
                {"created", ctx.created},
                {"model", modelOf(response, ctx.request_model)},
                {"provider", ctx.provider},
                {"choices", std::move(choices)}};
    if (const json* metadata = member(response, "usageMetadata")) {
      out["usage"] = openAiUsage(*metadata);
    } else {
      out["usage"] = openAiUsage(json::object());
    }
    return MappedResponse{200, "application/json",
                          out.dump(-1, ' ', false, json::error_handler_t::replace)};
  } catch (const std::exception&) {
    return invalidResponse(ctx.provider, 200, body);
  }
}

MappedResponse errorResponse(std::string_view provider, const UpstreamReply& reply) {
  json parsed = parseJson(reply.body);
  if (parsed.is_array() && !parsed.empty()) {
    parsed = parsed[0];  // streamGenerateContent without alt=sse wraps errors in an array
  }
  const json* error = member(parsed, "error");
  if (error == nullptr || !error->is_object() || member(*error, "message") == nullptr) {
    return normaliseError(provider, reply);
  }
  const json* message = member(*error, "message");
  const json* status = member(*error, "status");
  if (status == nullptr) {
    status = member(*error, "type");  // Anthropic-shaped errors from Claude on Vertex
  }
  const json* code = member(*error, "code");
  return fromError(errors::providerError(
      reply.status, provider, message->is_string() ? message->get<std::string>() : message->dump(),
      status != nullptr ? *status : json(nullptr), nullptr,
      code != nullptr ? *code : json(nullptr)));
}

bool wantsStreamUsage(const json* body) {
  if (body == nullptr) {
    return false;
  }
  const json* options = member(*body, "stream_options");
  const json* include = options != nullptr ? member(*options, "include_usage") : nullptr;
  return include != nullptr && *include == true;
}

namespace {

class GeminiStreamTransformer : public StreamTransformer {
 public:
  GeminiStreamTransformer(std::string provider,
                          std::string model,
                          long long created,
                          bool include_usage)
      : provider_(std::move(provider)),
        model_(std::move(model)),
        id_(newId()),
        created_(created),
        include_usage_(include_usage) {}

  void feed(std::string_view bytes, std::string& out) override {
    if (stopped_) {
      return;
    }
    events_.clear();
    if (!parser_.feed(bytes, events_)) {
      fail(out, "stream event exceeds the size limit");
      return;
    }
    handleEvents(out);
  }

  void finish(bool complete, std::string& out) override {
    if (stopped_) {
      return;
    }
    events_.clear();
    parser_.finish(events_);
    handleEvents(out);
    if (stopped_) {
      return;
    }
    if (!complete) {
      fail(out, "the upstream stream ended unexpectedly");
      return;
    }
    if (candidates_.empty()) {
      fail(out, "the upstream stream ended without an answer");
      return;
    }
    for (auto& [index, state] : candidates_) {
      if (!state.finished) {
        // Ended cleanly without a finishReason: close the choice rather than leave it open.
        finishCandidate(index, state, state.tool_calls > 0 ? "tool_calls" : "stop", nullptr, out);
      }
    }
    if (include_usage_) {
      json chunk = chunkSkeleton();
      chunk["usage"] = openAiUsage(last_usage_.is_object() ? last_usage_ : json::object());
      out += openai::sseData(chunk);
    }
    out += openai::sseDone();
    stopped_ = true;
  }

 private:
  struct CandidateState {
    bool role_sent = false;
    bool finished = false;
    int tool_calls = 0;
  };

  json chunkSkeleton() const { return openai::chatChunk(id_, model_, created_, provider_); }

  void emit(int index, json delta, json finish_reason, const json* usage_json, std::string& out) {
    json chunk = chunkSkeleton();
    chunk["choices"].push_back({{"index", index},
                                {"delta", std::move(delta)},
                                {"logprobs", nullptr},
                                {"finish_reason", std::move(finish_reason)}});
    if (usage_json != nullptr) {
      chunk["usage"] = *usage_json;
    }
    out += openai::sseData(chunk);
  }

  void ensureRole(int index, CandidateState& state, std::string& out) {
    if (!state.role_sent) {
      state.role_sent = true;
      emit(index, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr, out);
    }
  }

  void finishCandidate(int index,
                       CandidateState& state,
                       const std::string& reason,
                       const json* usage_metadata,
                       std::string& out) {
    ensureRole(index, state, out);
    state.finished = true;
    json mapped;
    if (usage_metadata != nullptr && !include_usage_) {
      mapped = openAiUsage(*usage_metadata);
    }
    emit(index, json::object(), reason, mapped.is_null() ? nullptr : &mapped, out);
  }

  void fail(std::string& out,
            std::string_view message,
            json type = "upstream_stream_error",
            json code = nullptr) {
    out += openai::sseError(provider_, message, std::move(type), std::move(code));
    stopped_ = true;
  }

  void handleEvents(std::string& out) {
    for (const auto& event : events_) {
      if (stopped_) {
        return;
      }
      handleEvent(event.data, out);
    }
  }

  void handleEvent(std::string_view data, std::string& out) {
    while (!data.empty() && (data.front() == ' ' || data.front() == '\r' || data.front() == '\n')) {
      data.remove_prefix(1);
    }
    if (data.empty() || data == "[DONE]") {
      return;
    }
    json event = parseJson(data);
    if (event.is_array() && event.size() == 1) {
      event = event[0];
    }
    if (!event.is_object()) {
      fail(out, "invalid stream event: " + std::string(data.substr(0, kMaxQuotedBytes)));
      return;
    }
    try {
      handleObject(event, out);
    } catch (const std::exception& e) {
      fail(out, std::string("invalid stream event: ") + e.what());
    }
  }

  void handleObject(const json& event, std::string& out) {
    if (const json* error = member(event, "error")) {
      std::string message = error->is_object() ? stringMember(*error, "message") : "";
      if (message.empty()) {
        message = error->dump();
      }
      const json* status = member(*error, "status");
      const json* code = member(*error, "code");
      fail(out, message, status != nullptr ? *status : json("upstream_stream_error"),
           code != nullptr ? *code : json(nullptr));
      return;
    }
    if (!model_seen_) {
      std::string version = stringMember(event, "modelVersion");
      if (!version.empty()) {
        model_ = version;
        model_seen_ = true;
      }
    }
    const json* metadata = member(event, "usageMetadata");
    if (metadata != nullptr) {
      last_usage_ = *metadata;
    }
    const json* candidates = member(event, "candidates");
    if (candidates == nullptr || !candidates->is_array() || candidates->empty()) {
      if (!blockReason(event).empty()) {
        auto& state = candidates_[0];
        if (!state.finished) {
          finishCandidate(0, state, "content_filter", metadata, out);
        }
      }
      return;
    }
    int position = 0;
    for (const auto& candidate : *candidates) {
      const json* index_json = member(candidate, "index");
      int index = index_json != nullptr && index_json->is_number_integer() ? index_json->get<int>()
                                                                           : position;
      ++position;
      auto& state = candidates_[index];
      if (state.finished) {
        continue;
      }
      CandidateParts parts = readParts(candidate);
      json delta = json::object();
      if (!state.role_sent) {
        delta["role"] = "assistant";
        state.role_sent = true;
        if (parts.has_text) {
          delta["content"] = parts.text;
        } else if (parts.tool_calls.empty()) {
          delta["content"] = "";
        } else {
          delta["content"] = nullptr;  // as OpenAI sends it before tool calls
        }
      } else if (parts.has_text) {
        delta["content"] = parts.text;
      }
      if (!parts.tool_calls.empty()) {
        for (auto& call : parts.tool_calls) {
          call["index"] = state.tool_calls++;
        }
        delta["tool_calls"] = std::move(parts.tool_calls);
      }
      if (delta.contains("role") || (parts.has_text && !parts.text.empty()) ||
          delta.contains("tool_calls")) {
        emit(index, std::move(delta), nullptr, nullptr, out);
      }
      std::string reason = stringMember(candidate, "finishReason");
      if (!reason.empty() && reason != "FINISH_REASON_UNSPECIFIED") {
        finishCandidate(index, state, finishReason(reason, state.tool_calls > 0), metadata, out);
      }
    }
  }

  std::string provider_;
  std::string model_;
  std::string id_;
  long long created_;
  bool include_usage_;
  bool model_seen_ = false;
  bool stopped_ = false;
  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  std::map<int, CandidateState> candidates_;
  json last_usage_;
};

}  // namespace

std::unique_ptr<StreamTransformer> makeStreamTransformer(std::string provider,
                                                         std::string request_model,
                                                         long long created,
                                                         bool include_usage) {
  return std::make_unique<GeminiStreamTransformer>(std::move(provider), std::move(request_model),
                                                   created, include_usage);
}

Expected<EmbedRequest> embedRequestBody(const json& body, std::string_view model) {
  const json* input = member(body, "input");
  if (input == nullptr) {
    return badRequest("input is required");
  }
  json config = json::object();
  if (const json* dimensions = member(body, "dimensions")) {
    config["outputDimensionality"] = *dimensions;
  }
  auto request = [&](const std::string& text) {
    json r = {{"content", {{"parts", json::array({{{"text", text}}})}}}};
    r.update(config);
    return r;
  };
  if (input->is_string()) {
    return EmbedRequest{false, request(input->get<std::string>())};
  }
  if (!input->is_array() || input->empty()) {
    return badRequest("input must be a string or a non-empty array of strings");
  }
  json requests = json::array();
  for (const auto& item : *input) {
    if (!item.is_string()) {
      return badRequest("Only string inputs are supported for embeddings on this provider");
    }
    json r = request(item.get<std::string>());
    r["model"] = "models/" + std::string(model);
    requests.push_back(std::move(r));
  }
  return EmbedRequest{true, json{{"requests", std::move(requests)}}};
}

std::string requestModel(const ClientRequest& request) {
  return request.body != nullptr ? stringMember(*request.body, "model") : std::string();
}

json embeddingVectors(const json& response) {
  if (const json* single = member(response, "embedding")) {
    const json* values = member(*single, "values");
    if (values != nullptr && values->is_array()) {
      return json::array({*values});
    }
    return nullptr;
  }
  const json* many = member(response, "embeddings");
  if (many == nullptr || !many->is_array()) {
    return nullptr;
  }
  json out = json::array();
  for (const auto& item : *many) {
    const json* values = member(item, "values");
    if (values == nullptr || !values->is_array()) {
      return nullptr;
    }
    out.push_back(*values);
  }
  return out;
}

bool wantsBase64(const json* body) {
  return body != nullptr && stringMember(*body, "encoding_format") == "base64";
}

json embeddingList(const json& vectors,
                   std::string_view model,
                   long long prompt_tokens,
                   bool base64) {
  json data = json::array();
  std::size_t index = 0;
  for (const auto& vector : vectors) {
    json embedding = vector;
    if (base64 && vector.is_array()) {
      std::string bytes;
      bytes.reserve(vector.size() * 4);
      for (const auto& value : vector) {
        float f = value.is_number() ? value.get<float>() : 0.0f;
        unsigned char raw[4];
        std::memcpy(raw, &f, 4);  // x86/ARM hosts are little-endian, as OpenAI's format is
        bytes.append(reinterpret_cast<const char*>(raw), 4);
      }
      std::string encoded(4 * ((bytes.size() + 2) / 3), '\0');
      int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                              reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()));
      encoded.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
      embedding = std::move(encoded);
    }
    data.push_back(
        {{"object", "embedding"}, {"index", index++}, {"embedding", std::move(embedding)}});
  }
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"model", model},
              {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
}

}  // namespace portico::providers::gemini
