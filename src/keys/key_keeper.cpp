#include "keys/key_keeper.hpp"

#include <spdlog/spdlog.h>

namespace portico::keys {

KeyKeeper::KeyKeeper(KeyStore& store,
                     KeyIndex& index,
                     UsageRecorder& usage,
                     std::optional<std::chrono::milliseconds> poll,
                     std::chrono::milliseconds flush)
    : store_(store),
      index_(index),
      usage_(usage),
      poll_(poll.value_or(store.changePollInterval())),
      flush_(flush) {}

KeyKeeper::~KeyKeeper() { stop(); }

void KeyKeeper::start() {
  thread_ = std::thread([this] { run(); });
}

void KeyKeeper::notify() {
  {
    std::lock_guard lock(mutex_);
    changed_ = true;
  }
  wake_.notify_one();
}

void KeyKeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  flushUsage();
}

void KeyKeeper::refresh() {
  try {
    if (store_.generation() != index_.generation()) {
      index_.reload();
      spdlog::info("virtual keys reloaded: {} keys", index_.size());
    }
    if (store_failing_) {
      store_failing_ = false;
      spdlog::info("virtual keys: the store answers again");
    }
  } catch (const std::exception& e) {
    // The keys loaded before stay in use.
    if (!store_failing_) {
      store_failing_ = true;
      spdlog::error("virtual keys not reloaded: {}", e.what());
    }
  }
}

void KeyKeeper::flushUsage() {
  try {
    usage_.flush(store_);
  } catch (const std::exception& e) {
    spdlog::error("virtual key usage not written ({} rows kept for the next try): {}",
                  usage_.keptRows(), e.what());
  }
  if (const auto lost = usage_.lost(); lost > lost_logged_) {
    lost_logged_ = lost;
    spdlog::warn(
        "virtual key usage: {} events dropped since start (queue full, or the store was "
        "unreachable for too long)",
        lost);
  }
}

void KeyKeeper::run() {
  auto next_flush = std::chrono::steady_clock::now() + flush_;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, poll_, [this] { return stopping_ || changed_; });
    if (stopping_) {
      break;
    }
    changed_ = false;
    lock.unlock();
    refresh();
    if (std::chrono::steady_clock::now() >= next_flush) {
      flushUsage();
      next_flush = std::chrono::steady_clock::now() + flush_;
    }
    lock.lock();
  }
}

}  // namespace portico::keys
