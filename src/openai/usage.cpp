#include "portico/usage.hpp"

#include <cstring>

#include "portico/fast_json.hpp"

namespace portico {
namespace {

using nlohmann::json;

std::optional<std::int64_t> count(simdjson::dom::object object,
                                  std::string_view key,
                                  std::string_view alt = {}) {
  for (std::string_view name : {key, alt}) {
    if (name.empty()) {
      continue;
    }
    simdjson::dom::element value;
    if (object.at_key(name).get(value) == simdjson::SUCCESS && value.is_int64()) {
      return std::int64_t(value);
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> nestedCount(simdjson::dom::object object,
                                        std::string_view parent,
                                        std::string_view key) {
  simdjson::dom::object inner;
  if (object.at_key(parent).get(inner) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return count(inner, key);
}

// Reads a usage object from its text with simdjson: answers and chunks are scanned per request,
// and an nlohmann tree costs an allocation per member.
std::optional<Usage> usageFromText(std::string_view text) {
  simdjson::dom::object usage;
  if (fast_json::parse(text).get(usage) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  Usage out;
  out.prompt_tokens = count(usage, "prompt_tokens", "input_tokens");
  out.completion_tokens = count(usage, "completion_tokens", "output_tokens");
  out.cached_tokens = nestedCount(usage, "prompt_tokens_details", "cached_tokens");
  if (!out.cached_tokens) {
    out.cached_tokens = nestedCount(usage, "input_tokens_details", "cached_tokens");
  }
  out.reasoning_tokens = nestedCount(usage, "completion_tokens_details", "reasoning_tokens");
  if (!out.reasoning_tokens) {
    out.reasoning_tokens = nestedCount(usage, "output_tokens_details", "reasoning_tokens");
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

// The length of the JSON object starting at text[0] == '{', or 0 when it does not end.
std::size_t objectLength(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return 0;
}

}  // namespace

std::optional<Usage> usageFromOpenAi(const json& usage) {
  // One reading of the object, the text one: providers hand over small parsed objects, once per
  // answer.
  return usage.is_object() ? usageFromText(usage.dump()) : std::nullopt;
}

std::optional<Usage> findOpenAiUsage(std::string_view document) {
  // OpenAI puts usage last; the last "usage" key followed by an object is the top-level one in
  // every answer shape we relay (choices never contain a "usage" key).
  constexpr std::string_view kKey = "\"usage\"";
  std::size_t end = document.size();
  while (end > 0) {
    const std::size_t at = document.rfind(kKey, end - 1);
    if (at == std::string_view::npos) {
      return std::nullopt;
    }
    std::size_t i = at + kKey.size();
    while (i < document.size() && (document[i] == ' ' || document[i] == '\n' ||
                                   document[i] == '\r' || document[i] == '\t')) {
      ++i;
    }
    if (i < document.size() && document[i] == ':') {
      ++i;
      while (i < document.size() && (document[i] == ' ' || document[i] == '\n' ||
                                     document[i] == '\r' || document[i] == '\t')) {
        ++i;
      }
      if (i < document.size() && document[i] == '{') {
        const std::size_t length = objectLength(document.substr(i));
        if (length == 0) {
          return std::nullopt;
        }
        return usageFromText(document.substr(i, length));
      }
    }
    end = at;
  }
  return std::nullopt;
}

}  // namespace portico
