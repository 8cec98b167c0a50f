#pragma once

// Small JSON accessors shared by the Gemini mapping files (internal to providers/google).

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "portico/error.hpp"

namespace portico::providers::gemini::detail {

// How much of an unusable upstream body an error message quotes.
inline constexpr std::size_t kMaxQuotedBytes = 1024;

// object[key] when `object` is an object and the member is there and not null, else nullptr.
inline const nlohmann::json* member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// object[key] when it is a string, else "".
inline std::string stringMember(const nlohmann::json& object, const char* key) {
  const nlohmann::json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

inline GatewayError badRequest(std::string message) {
  return errors::failure(400, std::move(message));
}

}  // namespace portico::providers::gemini::detail
