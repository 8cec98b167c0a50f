#pragma once

#include <atomic>
#include <cstdint>

namespace portico::telemetry {

// Client and upstream connections, counted by the server and the upstream pools in the calling
// thread's slot (see threadSlot) and summed by /metrics. Process-wide: every server in the
// process counts here.
struct alignas(64) ConnectionCounts {
  std::atomic<std::int64_t> client_open{0};
  std::atomic<std::uint64_t> client_accepted{0};
  std::atomic<std::int64_t> upstream_open{0};
  std::atomic<std::int64_t> upstream_idle{0};
  std::atomic<std::uint64_t> upstream_created{0};
};

// This thread's slot.
ConnectionCounts& connectionCounts();

struct ConnectionTotals {
  std::int64_t client_open = 0;
  std::uint64_t client_accepted = 0;
  std::int64_t upstream_open = 0;
  std::int64_t upstream_idle = 0;
  std::uint64_t upstream_created = 0;
};
ConnectionTotals sumConnectionCounts();

inline void countUp(std::atomic<std::int64_t>& gauge, std::int64_t by = 1) {
  gauge.fetch_add(by, std::memory_order_relaxed);
}
inline void countUp(std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace portico::telemetry
