#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/usage.hpp"

// What the Messages request, response and stream files share: Anthropic's names for chat's
// finish reasons, error kinds and usage counts.
namespace portico::apis::messages::detail {

// Anthropic's stop_reason for a chat finish_reason; null or unknown reasons are "end_turn",
// or "tool_use" when the answer called tools (`called_tools`) and did not say otherwise.
std::string stopReason(const nlohmann::json& finish_reason, bool called_tools);

// Anthropic's error type for a chat error object's type or code ("rate_limit_exceeded" ->
// rate_limit_error, ...); api_error when nothing is recognised.
std::string errorTypeFromChat(const nlohmann::json& error);

// Anthropic's usage object from chat counts: input_tokens excludes cached reads (Anthropic
// reports those apart), output_tokens, cache_read_input_tokens, cache_creation_input_tokens
// (chat never reports cache writes: 0). Zeros when `usage` is unset.
nlohmann::json usageJson(const std::optional<Usage>& usage);

}  // namespace portico::apis::messages::detail
