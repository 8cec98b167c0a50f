#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace portico::telemetry {

// Each thread counts in its own shard (a slot picked once per thread), and a scrape sums the
// shards: the request path touches only cache lines its own thread owns, with relaxed atomic
// adds and no lock. Shared slots (more threads than kMaxShards) stay correct, only slower.
constexpr std::size_t kMaxShards = 64;
std::size_t threadSlot();

// Labels of one series packed in 64 bits: four 16-bit label ids (LabelValues), high bit set
// so that no key is 0 (the empty slot).
constexpr std::uint64_t seriesKey(std::uint32_t a,
                                  std::uint32_t b,
                                  std::uint32_t c,
                                  std::uint32_t d) {
  return (std::uint64_t{1} << 63) | (std::uint64_t{a & 0x7fff} << 48) |
         (std::uint64_t{b & 0xffff} << 32) | (std::uint64_t{c & 0xffff} << 16) |
         std::uint64_t{d & 0xffff};
}
constexpr std::uint32_t keyPart(std::uint64_t key, int index) {
  const int shift = 48 - 16 * index;
  return static_cast<std::uint32_t>((key >> shift) & (index == 0 ? 0x7fff : 0xffff));
}

// A fixed table of labelled series, `Cells` counters each, found by open addressing. Several
// threads may add at once (inserts are a compare-and-swap of the key). A key that finds no
// place within kMaxProbes slots (a table nearly full) is dropped and counted, so a new series
// never costs a scan of the whole table on the request path.
template <std::size_t Cells>
class SeriesTable {
 public:
  struct Entry {
    std::atomic<std::uint64_t> key{0};
    std::array<std::atomic<std::uint64_t>, Cells> cells{};
  };

  explicit SeriesTable(std::size_t capacity_pow2)
      : mask_(capacity_pow2 - 1), entries_(std::make_unique<Entry[]>(capacity_pow2)) {}

  // The cells of `key`, inserted when new; null when the table is full.
  std::array<std::atomic<std::uint64_t>, Cells>* cells(std::uint64_t key) {
    std::size_t slot = (key * 0x9E3779B97F4A7C15ull) >> 40 & mask_;
    constexpr std::size_t kMaxProbes = 32;
    for (std::size_t probes = 0; probes < kMaxProbes && probes <= mask_; ++probes) {
      Entry& entry = entries_[slot];
      std::uint64_t seen = entry.key.load(std::memory_order_acquire);
      if (seen == key) {
        return &entry.cells;
      }
      if (seen == 0 && entry.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) {
        return &entry.cells;
      }
      if (seen == key) {
        return &entry.cells;  // another thread inserted the same key
      }
      slot = (slot + 1) & mask_;
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }

  void add(std::uint64_t key, std::size_t cell, std::uint64_t delta) {
    if (auto* found = cells(key)) {
      (*found)[cell].fetch_add(delta, std::memory_order_relaxed);
    }
  }

  // f(key, values) for every series, values read with relaxed loads.
  template <class F>
  void forEach(F&& f) const {
    std::array<std::uint64_t, Cells> values{};
    for (std::size_t i = 0; i <= mask_; ++i) {
      const std::uint64_t key = entries_[i].key.load(std::memory_order_acquire);
      if (key == 0) {
        continue;
      }
      for (std::size_t c = 0; c < Cells; ++c) {
        values[c] = entries_[i].cells[c].load(std::memory_order_relaxed);
      }
      f(key, values);
    }
  }

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::size_t mask_;
  std::unique_ptr<Entry[]> entries_;
  std::atomic<std::uint64_t> dropped_{0};
};

// Histogram buckets for request, upstream and first-token times: Prometheus' defaults widened
// to the minutes a long generation takes. Cells: one per bucket (not cumulative), +Inf, then
// the sum in microseconds.
constexpr std::array<std::uint64_t, 15> kBucketMicros = {
    5'000,     10'000,    25'000,     50'000,     100'000,    250'000,     500'000,    1'000'000,
    2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000, 120'000'000, 300'000'000};
constexpr std::size_t kHistogramCells = kBucketMicros.size() + 2;
using HistogramTable = SeriesTable<kHistogramCells>;
void observeMicros(HistogramTable& table, std::uint64_t key, std::uint64_t micros);

// Token cells of portico_tokens_total and the cost in nano-USD.
enum TokenCell : std::size_t {
  kInput,
  kOutput,
  kCachedInput,
  kReasoning,
  kCostNanoUsd,
  kTokenCells
};
// Per-provider event cells.
enum ProviderCell : std::size_t { kRetries, kFallbacks, kTimeouts, kProviderCells };
// Scalar counters and gauges.
enum Scalar : std::size_t {
  kCacheHits,
  kCacheMisses,
  kRequestsInFlight,  // gauge: up at requestStarted, down at requestEnded
  kStreamsInFlight,
  kScalars
};

struct Shard {
  SeriesTable<1> requests{4096};          // endpoint|status class, provider, model, virtual key
  SeriesTable<kTokenCells> tokens{2048};  // 0, provider, model, virtual key
  HistogramTable request_duration{512};   // endpoint, provider, model
  HistogramTable upstream_duration{512};  // 0, provider, model
  HistogramTable first_token{512};        // 0, provider, model
  SeriesTable<1> attempts{1024};          // outcome, provider
  SeriesTable<kProviderCells> provider_events{256};  // 0, provider
  std::array<std::atomic<std::int64_t>, kScalars> scalars{};

  // Adds that found no place in their table.
  std::uint64_t droppedSeries() const {
    return requests.dropped() + tokens.dropped() + request_duration.dropped() +
           upstream_duration.dropped() + first_token.dropped() + attempts.dropped() +
           provider_events.dropped();
  }
};

// Every thread's shard, allocated when the thread first counts.
class MetricStore {
 public:
  MetricStore() = default;
  ~MetricStore();
  MetricStore(const MetricStore&) = delete;
  MetricStore& operator=(const MetricStore&) = delete;

  Shard& local();
  // The shards allocated so far.
  std::vector<const Shard*> shards() const;

 private:
  std::array<std::atomic<Shard*>, kMaxShards> shards_{};
};

}  // namespace portico::telemetry
