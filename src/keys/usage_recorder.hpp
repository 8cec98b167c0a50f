#pragma once

#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <cstdint>
#include <string>
#include <string_view>

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
// hold `capacity` of them.
class UsageRecorder {
 public:
  explicit UsageRecorder(std::size_t capacity = 65536);
  ~UsageRecorder();

  void record(UsageEvent event);
  // Writes what was recorded; returns how many events. Throws StoreError from the store (the
  // events are then lost: the caller logs it).
  std::size_t flush(KeyStore& store);
  std::uint64_t lost() const { return lost_.load(); }

 private:
  boost::lockfree::queue<UsageEvent*> queue_;
  std::size_t capacity_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> lost_{0};
};

// "YYYY-MM-DD" (UTC) of a unix time.
std::string utcDay(std::int64_t unix_seconds);

}  // namespace portico::keys
