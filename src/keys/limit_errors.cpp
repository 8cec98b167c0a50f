#include "keys/limit_errors.hpp"

#include <algorithm>
#include <string>

namespace portico::keys {

GatewayError rateLimitError(std::string_view what, const RateWindowState& state) {
  const std::int64_t limit = what == "tokens" ? state.tpm : state.rpm;
  GatewayError error =
      errors::failure(429, "Rate limit reached for this virtual key: " + std::to_string(limit) +
                               " " + std::string(what) + " per minute. Try again in " +
                               std::to_string(state.retry_after_s) + "s.");
  error.body["error"]["code"] = "rate_limit_exceeded";
  const auto remaining = [](std::int64_t cap, std::int64_t used) {
    return std::to_string(std::max<std::int64_t>(0, cap - used));
  };
  if (state.rpm > 0) {
    error.headers.emplace_back("x-ratelimit-limit-requests", std::to_string(state.rpm));
    error.headers.emplace_back("x-ratelimit-remaining-requests",
                               remaining(state.rpm, state.requests_used));
  }
  if (state.tpm > 0) {
    error.headers.emplace_back("x-ratelimit-limit-tokens", std::to_string(state.tpm));
    error.headers.emplace_back("x-ratelimit-remaining-tokens",
                               remaining(state.tpm, state.tokens_used));
  }
  error.headers.emplace_back("retry-after", std::to_string(state.retry_after_s));
  return error;
}

GatewayError budgetError(const Budget& budget, bool usd_spent) {
  static constexpr const char* kPeriods[] = {"daily", "monthly", "total"};
  const char* period = kPeriods[static_cast<int>(budget.period)];
  const std::string limit = usd_spent ? "USD " + std::to_string(budget.usd.value_or(0))
                                      : std::to_string(budget.tokens.value_or(0)) + " tokens";
  GatewayError error = errors::failure(
      402, std::string("The ") + period + " budget of this virtual key is spent (" + limit + ").");
  error.body["error"]["code"] = "budget_exceeded";
  error.body["error"]["type"] = "budget_exceeded";
  error.body["budget"] = {
      {"limit", usd_spent ? "usd" : "tokens"},
      {"period", period},
      {"usd", budget.usd.value_or(0) > 0 ? nlohmann::json(*budget.usd) : nullptr},
      {"tokens", budget.tokens.value_or(0) > 0 ? nlohmann::json(*budget.tokens) : nullptr}};
  return error;
}

GatewayError limitsUnavailable(std::string_view kind) {
  GatewayError error = errors::failure(
      503, "The shared " + std::string(kind) +
               " counters cannot be reached, and this gateway refuses requests it cannot count "
               "(--redis-failure-mode). Try again shortly.");
  error.body["error"]["code"] = "limits_unavailable";
  error.headers.emplace_back("retry-after", "1");
  return error;
}

}  // namespace portico::keys
