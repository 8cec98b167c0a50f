#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace portico::keys {

// What a virtual key's limit does when the shared counters (Redis) cannot answer in time:
// let the request through uncounted, or refuse it with a 503.
enum class FailureMode { kOpen, kClosed };

// How virtual keys count when several gateways share Redis (--redis).
struct SharedLimitSettings {
  FailureMode rate = FailureMode::kOpen;  // requests and tokens per minute
  FailureMode budget = FailureMode::kClosed;
  // The window RPM and TPM count over: a minute (shorter only for tests).
  std::chrono::milliseconds window{60000};
};

// Reads --redis-failure-mode: "open" or "closed" for every kind, or a comma-separated list of
// kind:mode with kinds "rate" and "budget" (unnamed kinds keep `defaults`). nullopt, with the
// reason in `why`, for anything else.
std::optional<SharedLimitSettings> parseFailureModes(std::string_view text,
                                                     SharedLimitSettings defaults,
                                                     std::string& why);

}  // namespace portico::keys
