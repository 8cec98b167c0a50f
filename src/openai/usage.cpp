#include "portico/usage.hpp"

#include <cstring>

#include "portico/json_parse.hpp"

namespace portico {
namespace {

using nlohmann::json;

std::optional<std::int64_t> count(const json& object, const char* key, const char* alt = nullptr) {
  for (const char* name : {key, alt}) {
    if (name == nullptr) {
      continue;
    }
    auto it = object.find(name);
    if (it != object.end() && it->is_number_integer()) {
      return it->get<std::int64_t>();
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> nestedCount(const json& object, const char* parent, const char* key) {
  auto it = object.find(parent);
  return it != object.end() && it->is_object() ? count(*it, key) : std::nullopt;
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
  if (!usage.is_object()) {
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
        return usageFromOpenAi(parseJson(document.substr(i, length)));
      }
    }
    end = at;
  }
  return std::nullopt;
}

}  // namespace portico
