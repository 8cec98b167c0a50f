#include "telemetry/metric_store.hpp"

#include <algorithm>

namespace portico::telemetry {

std::size_t threadSlot() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kMaxShards;
  return slot;
}

void observeMicros(HistogramTable& table, std::uint64_t key, std::uint64_t micros) {
  auto* cells = table.cells(key);
  if (cells == nullptr) {
    return;
  }
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBucketMicros.begin(), kBucketMicros.end(), micros) - kBucketMicros.begin());
  (*cells)[bucket].fetch_add(1, std::memory_order_relaxed);
  (*cells)[kHistogramCells - 1].fetch_add(micros, std::memory_order_relaxed);
}

MetricStore::~MetricStore() {
  for (auto& shard : shards_) {
    delete shard.load();
  }
}

Shard& MetricStore::local() {
  auto& slot = shards_[threadSlot()];
  Shard* shard = slot.load(std::memory_order_acquire);
  if (shard != nullptr) {
    return *shard;
  }
  auto fresh = std::make_unique<Shard>();
  if (slot.compare_exchange_strong(shard, fresh.get(), std::memory_order_acq_rel)) {
    return *fresh.release();
  }
  return *shard;  // another thread sharing the slot made it first
}

std::vector<const Shard*> MetricStore::shards() const {
  std::vector<const Shard*> found;
  for (const auto& slot : shards_) {
    if (const Shard* shard = slot.load(std::memory_order_acquire)) {
      found.push_back(shard);
    }
  }
  return found;
}

}  // namespace portico::telemetry
