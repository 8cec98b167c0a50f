#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace portico::upstream {

// Bytes of non-streamed upstream answers held at once across all workers. One atomic add per
// upstream read: no lock, and the total holds however many clients pick big-answering hosts.
class BufferBudget {
 public:
  explicit BufferBudget(std::size_t limit) : limit_(limit) {}
  BufferBudget(const BufferBudget&) = delete;
  BufferBudget& operator=(const BufferBudget&) = delete;

  // Takes `n` bytes, or nothing when that would pass the limit.
  bool take(std::size_t n) {
    const std::size_t before = used_.fetch_add(n, std::memory_order_relaxed);
    if (before + n > limit_) {
      used_.fetch_sub(n, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void give(std::size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> used_{0};
  const std::size_t limit_;
};

// One answer's share of a BufferBudget, given back when the answer is gone. Move-only.
class BufferLease {
 public:
  BufferLease() = default;
  explicit BufferLease(BufferBudget* budget) : budget_(budget) {}
  BufferLease(BufferLease&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)), held_(std::exchange(other.held_, 0)) {}
  BufferLease& operator=(BufferLease&& other) noexcept {
    if (this != &other) {
      release();
      budget_ = std::exchange(other.budget_, nullptr);
      held_ = std::exchange(other.held_, 0);
    }
    return *this;
  }
  ~BufferLease() { release(); }

  // Holds at least `total` bytes; false when the budget cannot give them. Without a budget,
  // always true.
  bool growTo(std::size_t total) {
    if (budget_ == nullptr || total <= held_) {
      return true;
    }
    if (!budget_->take(total - held_)) {
      return false;
    }
    held_ = total;
    return true;
  }

 private:
  void release() {
    if (budget_ != nullptr && held_ > 0) {
      budget_->give(held_);
    }
    held_ = 0;
  }

  BufferBudget* budget_ = nullptr;
  std::size_t held_ = 0;
};

}  // namespace portico::upstream
