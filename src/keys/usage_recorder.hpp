#pragma once

#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key_store.hpp"

namespace portico::keys {

// What one call of a virtual key used, on its way from a worker to the store.
struct UsageEvent {
  std::string key_id;
  std::string model;
  std::int64_t at = 0;  // unix seconds
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t cached_tokens = 0;
  double cost_usd = 0;
};

// Carries usage from the request path to the store without a lock or a query there: workers
// push onto a lock-free queue and flush() (the keeper thread, every few seconds) sums the
// events per key, day and model into one upsert. What a crash loses: the events since the last
// flush. A full queue drops events and counts them (lost()), rather than block a worker.
// Queue nodes are allocated as events arrive and reused after, so an idle gateway does not
// hold `capacity` of them. Rows the store failed to write (a Postgres outage) are kept, up to
// `max_kept_rows`, and go out with the next flush.
class UsageRecorder {
 public:
  explicit UsageRecorder(std::size_t capacity = 65536, std::size_t max_kept_rows = 10000);
  ~UsageRecorder();

  void record(UsageEvent event);
  // Writes what was recorded, with the rows an earlier flush could not write; returns how many
  // new events. Rethrows StoreError from the store after keeping the rows for the next flush
  // (past max_kept_rows the rest are dropped and their events counted in lost()).
  std::size_t flush(KeyStore& store);
  // Events dropped since start: queue full, or rows past max_kept_rows during an outage.
  std::uint64_t lost() const { return lost_.load(); }
  // Rows waiting for the store to come back.
  std::size_t keptRows() const;

 private:
  boost::lockfree::queue<UsageEvent*> queue_;
  std::size_t capacity_;
  std::size_t max_kept_rows_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> lost_{0};
  mutable std::mutex flush_mutex_;  // flush() and kept_; never taken by record()
  std::vector<UsageRow> kept_;
};

// "YYYY-MM-DD" (UTC) of a unix time.
std::string utcDay(std::int64_t unix_seconds);

}  // namespace portico::keys
