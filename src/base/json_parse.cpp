#include "portico/json_parse.hpp"

#include "portico/fast_json.hpp"

namespace portico {

bool jsonDepthWithin(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return false;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) {
          --depth;
        }
        break;
      default:
        break;
    }
  }
  return true;
}

nlohmann::json parseJson(std::string_view text, std::size_t max_depth) {
  if (!jsonDepthWithin(text, max_depth)) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

bool isJson(std::string_view text) {
  // simdjson takes a document of whitespace only for a valid one; it is no JSON value.
  return text.find_first_not_of(" \t\r\n") != std::string_view::npos &&
         fast_json::parse(text).error() == simdjson::SUCCESS;
}

}  // namespace portico
