#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "keys/key_index.hpp"
#include "keys/usage_recorder.hpp"

namespace portico::keys {

// The one background thread of virtual keys, so the request path never waits on the store:
// it reloads the index when the store's generation moves (a change by the CLI or another
// gateway is seen within `poll`, by default the store's changePollInterval(); the admin API
// reloads the index itself before it answers) and flushes recorded usage every `flush` (what a
// crash can lose). stop() flushes a last time.
class KeyKeeper {
 public:
  KeyKeeper(KeyStore& store,
            KeyIndex& index,
            UsageRecorder& usage,
            std::optional<std::chrono::milliseconds> poll = std::nullopt,
            std::chrono::milliseconds flush = std::chrono::seconds(2));
  ~KeyKeeper();
  KeyKeeper(const KeyKeeper&) = delete;
  KeyKeeper& operator=(const KeyKeeper&) = delete;

  void start();
  // Reload now (the admin API changed a key). Returns at once.
  void notify();
  void stop();

 private:
  void run();
  void refresh();
  void flushUsage();

  KeyStore& store_;
  KeyIndex& index_;
  UsageRecorder& usage_;
  std::chrono::milliseconds poll_;
  std::chrono::milliseconds flush_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool changed_ = false;
  bool stopping_ = false;
  // Keeper thread only: an outage is logged when it starts and ends, not on every poll.
  bool store_failing_ = false;
  std::uint64_t lost_logged_ = 0;
  std::thread thread_;
};

}  // namespace portico::keys
