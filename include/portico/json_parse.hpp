#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace portico {

// Deepest nesting of arrays and objects accepted anywhere (client bodies, configs, metadata,
// upstream answers, stream events). nlohmann's dump, copy and compare recurse once per level,
// so an unbounded document is a stack overflow waiting for the first re-serialisation.
inline constexpr std::size_t kMaxJsonDepth = 128;

// True when no array or object in `text` nests deeper than `max_depth`. Scans the bytes once,
// skipping strings; says nothing about whether `text` is valid JSON.
bool jsonDepthWithin(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// The one way Portico parses JSON off the wire: a discarded value (is_discarded()) when `text`
// is not JSON or nests deeper than `max_depth`. Never throws.
nlohmann::json parseJson(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// object[key], or a null value when `object` is no object or has no such member: reads a
// hostile document without nlohmann's throwing or inserting accessors, and without a copy.
inline const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) {
    return kNull;
  }
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// Whether `text` is one valid JSON value (UTF-8, nesting within kMaxJsonDepth), checked without
// building it: for relays that pass the bytes on as they came.
bool isJson(std::string_view text);

}  // namespace portico
