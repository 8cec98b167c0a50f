#pragma once

#include <cstdint>
#include <string_view>

#include "keys/virtual_key.hpp"
#include "portico/error.hpp"

namespace portico::keys {

// The refusals of a virtual key's limits, the same whether the counters are this process's
// (KeyMeter) or shared through Redis (shared_key_meter.hpp).

// What a limit refusal reports in OpenAI's x-ratelimit-* headers; 0 limits are left out.
struct RateWindowState {
  std::int64_t rpm = 0;
  std::int64_t requests_used = 0;
  std::int64_t tpm = 0;
  std::int64_t tokens_used = 0;
  std::int64_t retry_after_s = 1;
};

// 429 rate_limit_exceeded: `what` is "requests" or "tokens", with retry-after and the
// x-ratelimit-* headers.
GatewayError rateLimitError(std::string_view what, const RateWindowState& state);

// 402 budget_exceeded, naming the cap that is spent (`usd_spent`: the USD one, else tokens).
GatewayError budgetError(const Budget& budget, bool usd_spent);

// 503 when the shared counters cannot be reached and --redis-failure-mode says closed.
GatewayError limitsUnavailable(std::string_view kind);

}  // namespace portico::keys
