#include "telemetry/connection_counts.hpp"

#include <array>

#include "telemetry/metric_store.hpp"

namespace portico::telemetry {
namespace {

std::array<ConnectionCounts, kMaxShards>& slots() {
  static std::array<ConnectionCounts, kMaxShards> counts;
  return counts;
}

}  // namespace

ConnectionCounts& connectionCounts() { return slots()[threadSlot()]; }

ConnectionTotals sumConnectionCounts() {
  ConnectionTotals totals;
  for (const auto& slot : slots()) {
    totals.client_open += slot.client_open.load(std::memory_order_relaxed);
    totals.client_accepted += slot.client_accepted.load(std::memory_order_relaxed);
    totals.upstream_open += slot.upstream_open.load(std::memory_order_relaxed);
    totals.upstream_idle += slot.upstream_idle.load(std::memory_order_relaxed);
    totals.upstream_created += slot.upstream_created.load(std::memory_order_relaxed);
  }
  return totals;
}

}  // namespace portico::telemetry
