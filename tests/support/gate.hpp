#pragma once
// A one-shot gate a fake upstream thread waits on until the test opens it.
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace portico::testing {

class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  bool waitOpen(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace portico::testing
