#pragma once

// Helpers the Cohere request, response and embeddings mappings share (not for other providers).
#include <nlohmann/json.hpp>
#include <string>

#include "portico/error.hpp"

namespace portico::providers::cohere {

inline constexpr std::string_view kId = "cohere";

// A 400 "cohere: <message>".
GatewayError badRequest(std::string message);

// The text of an OpenAI or Cohere message content: a string, or the text parts of an array.
std::string textOf(const nlohmann::json& content);

// Tool calls in OpenAI's shape ({id, type: function, function: {name, arguments string}}),
// from OpenAI's or Cohere's (the same shape, arguments possibly an object).
nlohmann::json toolCallsOf(const nlohmann::json& calls);

// A token count: an integer, a float truncated, anything else 0.
long long countOf(const nlohmann::json& value);

}  // namespace portico::providers::cohere
