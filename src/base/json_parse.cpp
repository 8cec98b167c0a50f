#include "portico/json_parse.hpp"

#include <cstdint>
#include <string>

#include "portico/fast_json.hpp"

namespace portico {
namespace {

// An nlohmann value from a simdjson element: the same tree nlohmann's parser builds (a repeated
// key keeps its last value, integers stay signed or unsigned), without its byte-by-byte lexer.
nlohmann::json toTree(simdjson::dom::element element) {
  using Type = simdjson::dom::element_type;
  switch (element.type()) {
    case Type::OBJECT: {
      nlohmann::json object(nlohmann::json::value_t::object);
      auto& members = object.get_ref<nlohmann::json::object_t&>();
      for (auto field : simdjson::dom::object(element)) {
        members.insert_or_assign(std::string(field.key), toTree(field.value));
      }
      return object;
    }
    case Type::ARRAY: {
      const simdjson::dom::array items(element);
      nlohmann::json array(nlohmann::json::value_t::array);
      auto& values = array.get_ref<nlohmann::json::array_t&>();
      values.reserve(items.size());
      for (auto item : items) {
        values.push_back(toTree(item));
      }
      return array;
    }
    case Type::STRING:
      return std::string(std::string_view(element));
    case Type::INT64:
      return std::int64_t(element);
    case Type::UINT64:
      return std::uint64_t(element);
    case Type::DOUBLE:
      return double(element);
    case Type::BOOL:
      return bool(element);
    case Type::NULL_VALUE:
      break;
  }
  return nullptr;
}

}  // namespace

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
  // What simdjson refuses goes to nlohmann, which decides: integers beyond 64 bits are its
  // doubles, and whatever else it also refuses is discarded. simdjson's parser refuses what
  // nests deeper than kMaxJsonDepth itself, so the depth scan runs first only when the caller
  // asks for less, and otherwise only on the way to nlohmann.
  const bool scan_first = max_depth < kMaxJsonDepth;
  const auto discarded = nlohmann::json(nlohmann::json::value_t::discarded);
  if (scan_first && !jsonDepthWithin(text, max_depth)) {
    return discarded;
  }
  if (text.size() <= fast_json::kTreeMaxBytes) {
    auto parsed = fast_json::parseForTree(text);
    if (parsed.error() == simdjson::SUCCESS) {
      return toTree(parsed.value_unsafe());
    }
  }
  if (!scan_first && !jsonDepthWithin(text, max_depth)) {
    return discarded;
  }
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

bool isJson(std::string_view text) {
  // simdjson takes a document of whitespace only for a valid one; it is no JSON value.
  return text.find_first_not_of(" \t\r\n") != std::string_view::npos &&
         fast_json::parse(text).error() == simdjson::SUCCESS;
}

}  // namespace portico
