#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/usage.hpp"

// What the complete and the streamed Responses answers share: the `response` object's skeleton
// (with the request's fields echoed as OpenAI does), usage, and the incomplete reason.
namespace portico::apis::responses::detail {

// A `response` object with no output yet: {id, object, created_at, status, error: null,
// incomplete_details: null, model, output: [], usage: null} plus the request's echoed fields
// (instructions, tools, temperature, ...).
nlohmann::json responseObject(std::string_view id,
                              long long created_at,
                              std::string_view model,
                              std::string_view status,
                              const nlohmann::json& request);

// The Responses usage object; zeros where the provider reported nothing.
nlohmann::json usageObject(const std::optional<Usage>& usage);

// {reason} for a chat finish reason that leaves the response incomplete ("length",
// "content_filter"), else null.
nlohmann::json incompleteDetails(const nlohmann::json& finish_reason);

// The string value of object[key], or `fallback` when absent or no string.
std::string stringOr(const nlohmann::json& object, const char* key, std::string fallback = {});

}  // namespace portico::apis::responses::detail
