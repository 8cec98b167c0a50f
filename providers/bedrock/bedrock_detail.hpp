#pragma once

// Small helpers the bedrock files share; not part of the adapter's interface.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "portico/error.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers::bedrock::detail {

inline constexpr std::string_view kProvider = "bedrock";
inline constexpr std::size_t kMaxQuotedBytes = 2048;

inline GatewayError badRequest(std::string message) {
  return errors::failure(400, "bedrock: " + std::move(message));
}

// The first bytes of an upstream body, for error messages.
inline std::string clipped(std::string_view body) {
  return std::string(body.substr(0, kMaxQuotedBytes));
}

// The 502 for a 2xx answer that is not what Bedrock sends.
inline GatewayError invalidResponse(std::string_view body) {
  return errors::providerError(502, kProvider,
                               "Invalid response received from bedrock: " + clipped(body));
}

// j[key] when it is a string, else "".
inline std::string stringField(const nlohmann::json& j, const char* key) {
  return openai::stringField(&j, key);
}

inline bool isString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string();
}

// "a, b,,c" -> ["a","b","c"]: the anthropic_beta setting as Bedrock's array (bedrock_request.cpp).
nlohmann::json commaList(std::string_view text);

}  // namespace portico::providers::bedrock::detail
