#include <algorithm>
#include <cstdint>
#include <cstring>

#include "portico/encoding.hpp"
#include "portico/error.hpp"
#include "portico/openai_wire.hpp"

namespace portico::openai {

using nlohmann::json;

std::string sseData(const json& payload) {
  return "data: " + payload.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

void appendSseEvent(std::string_view name, std::string_view json_text, std::string& out) {
  if (!name.empty()) {
    out.append("event: ").append(name).append("\n");
  }
  out += "data: ";
  const std::size_t start = out.size();
  out += json_text;
  // CR ends an SSE line as LF does; in valid JSON both are only whitespace. Most events have
  // neither, and memchr finds that out faster than a loop over every byte.
  if (std::memchr(json_text.data(), '\n', json_text.size()) != nullptr ||
      std::memchr(json_text.data(), '\r', json_text.size()) != nullptr) {
    std::replace_if(
        out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
        [](char c) { return c == '\n' || c == '\r'; }, ' ');
  }
  out += "\n\n";
}

std::string sseDone() { return "data: [DONE]\n\n"; }

std::string sseError(std::string_view provider, std::string_view message, json type, json code) {
  return "event: error\n" + sseData(errors::providerError(500, provider, message, std::move(type),
                                                          nullptr, std::move(code))
                                        .body);
}

bool wantsIncludeUsage(const json* body) {
  if (body == nullptr || !body->is_object()) {
    return false;
  }
  auto options = body->find("stream_options");
  if (options == body->end() || !options->is_object()) {
    return false;
  }
  auto include = options->find("include_usage");
  return include != options->end() && include->is_boolean() && include->get<bool>();
}

long long unixSeconds(std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

namespace {

json skeleton(std::string_view object,
              std::string_view id,
              std::string_view model,
              long long created,
              std::string_view provider) {
  json out = {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
  if (!provider.empty()) {
    out["provider"] = provider;
  }
  out["choices"] = json::array();
  return out;
}

}  // namespace

json chatChunk(std::string_view id,
               std::string_view model,
               long long created,
               std::string_view provider) {
  return skeleton("chat.completion.chunk", id, model, created, provider);
}

json chatCompletion(std::string_view id,
                    std::string_view model,
                    long long created,
                    std::string_view provider) {
  return skeleton("chat.completion", id, model, created, provider);
}

std::string newId(std::string_view prefix) {
  std::string uuid = randomUuid();
  std::erase(uuid, '-');
  return std::string(prefix) + uuid;
}

json usageJson(const Usage& usage) {
  const std::int64_t prompt = usage.prompt_tokens.value_or(0);
  const std::int64_t completion = usage.completion_tokens.value_or(0);
  json out = {{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion}};
  if (usage.cached_tokens) {
    out["prompt_tokens_details"] = {{"cached_tokens", *usage.cached_tokens}};
  }
  if (usage.reasoning_tokens) {
    out["completion_tokens_details"] = {{"reasoning_tokens", *usage.reasoning_tokens}};
  }
  return out;
}

std::string base64Floats(const json& vector) {
  std::string bytes;
  bytes.reserve(vector.size() * 4);
  for (const auto& value : vector) {
    const float f = value.is_number() ? value.get<float>() : 0.0f;
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8) {
      bytes.push_back(static_cast<char>((bits >> shift) & 0xff));
    }
  }
  return base64Encode(bytes);
}

std::string stringField(const json* body, const char* key) {
  if (body == nullptr || !body->is_object()) {
    return {};
  }
  auto it = body->find(key);
  return it != body->end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace portico::openai
