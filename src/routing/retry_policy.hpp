#pragma once

// The retry policy of one config leaf, as pure functions: which outcomes are retried, how long
// to wait before the next attempt, and what x-portkey-retry-attempt-count reports. The forwarder
// owns the loop and the sleeping; everything here is deterministic given its inputs.

#include <chrono>
#include <optional>
#include <vector>

#include "portico/config.hpp"
#include "portico/http_types.hpp"

namespace portico::routing {

// Portkey's backoff: 1 s before the first retry, doubling after each (1 s, 2 s, 4 s, ...).
inline constexpr std::chrono::milliseconds kRetryBaseDelay{1000};
// The most a leaf may spend waiting between its attempts when an upstream asks for a wait with
// retry-after (Portkey's MAX_RETRY_LIMIT_MS).
inline constexpr std::chrono::milliseconds kRetryAfterBudget{60000};
// Retries after the first try are capped here whatever the config says.
inline constexpr int kMaxRetryAttempts = 5;

// The statuses retried when `retry.on_status_codes` is not given.
const std::vector<int>& defaultRetryStatuses();

// What one attempt ended with, as far as the policy cares.
struct AttemptOutcome {
  int status = 200;
  // The upstream could not be reached or dropped the connection before answering: retried
  // whatever the status list says, as Portkey retries fetch's network errors.
  bool network_error = false;
  // Never retried: the client went away, or the gateway itself refused the request.
  bool final = false;
  // The upstream's response headers (for retry-after); may be null.
  const HeaderList* headers = nullptr;
};

struct RetryDecision {
  bool retry = false;
  // When `retry`: how long to wait before the next attempt.
  std::chrono::milliseconds delay{0};
  // When not `retry`: the x-portkey-retry-attempt-count to report (retries made, or -1 when
  // retries were exhausted or skipped because the upstream asked for too long a wait).
  int reported_count = 0;
};

// Equal-jitter exponential backoff before retry number `retry_number` (1 for the first retry):
// half of base * 2^(n-1) plus a uniform share of the other half. `unit_random` is in [0, 1).
std::chrono::milliseconds backoffDelay(int retry_number, double unit_random);

// The wait an upstream asked for, from the first of retry-after-ms, x-ms-retry-after-ms (both
// milliseconds) and retry-after (seconds, possibly fractional). HTTP-date values and anything
// unparsable or non-positive are ignored.
std::optional<std::chrono::milliseconds> retryAfterFromHeaders(const HeaderList& headers);

// Decides what follows an attempt. `retries_done` counts the retries already made (0 after the
// first try); `waited` is the time this leaf already spent waiting between its attempts.
RetryDecision decideRetry(const RetrySettings& settings,
                          int retries_done,
                          const AttemptOutcome& outcome,
                          std::chrono::milliseconds waited,
                          double unit_random);

}  // namespace portico::routing
