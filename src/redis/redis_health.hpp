#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace portico::redis {

// What every worker's Redis client reports, for /metrics and for one log line per outage (not
// one per request): counters are atomics, updated on the worker threads.
class Health {
 public:
  // A command got its answer.
  void succeeded();
  // A command got none: `reason` is "timeout", "unavailable" or "error" (Redis answered with an
  // error, e.g. a script that failed). Logs once when Redis goes from up to down.
  void failed(std::string_view reason, std::string_view detail);
  // A limit check Redis could not answer was let through (fail-open) or refused (fail-closed).
  void limitUnchecked(bool refused);

  bool up() const { return up_.load(std::memory_order_relaxed); }
  std::uint64_t commands() const { return commands_.load(std::memory_order_relaxed); }
  std::uint64_t timeouts() const { return timeouts_.load(std::memory_order_relaxed); }
  std::uint64_t unavailable() const { return unavailable_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  std::uint64_t failedOpen() const { return failed_open_.load(std::memory_order_relaxed); }
  std::uint64_t failedClosed() const { return failed_closed_.load(std::memory_order_relaxed); }

  // The portico_redis_* families in Prometheus' text format, appended to `out`.
  void render(std::string& out) const;

 private:
  std::atomic<bool> up_{true};
  std::atomic<bool> error_logged_{false};
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> timeouts_{0};
  std::atomic<std::uint64_t> unavailable_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> failed_open_{0};
  std::atomic<std::uint64_t> failed_closed_{0};
};

}  // namespace portico::redis
