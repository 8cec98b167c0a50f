#include "telemetry/label_values.hpp"

#include <bit>
#include <functional>

namespace portico::telemetry {
namespace {

constexpr std::size_t kMaxValueBytes = 200;

}  // namespace

LabelValues::LabelValues(std::size_t capacity)
    : capacity_(std::min<std::size_t>(capacity, kOther - 1)),
      mask_(std::bit_ceil(2 * capacity_ + 2) - 1),
      slots_(std::make_unique<std::atomic<std::uint32_t>[]>(mask_ + 1)),
      names_(std::make_unique<std::string[]>(capacity_)) {}

std::uint32_t LabelValues::find(std::string_view value, std::size_t& slot) const {
  slot = std::hash<std::string_view>{}(value)&mask_;
  for (;;) {
    const std::uint32_t id_plus_one = slots_[slot].load(std::memory_order_acquire);
    if (id_plus_one == 0) {
      return kOther;
    }
    if (names_[id_plus_one - 1] == value) {
      return id_plus_one - 1;
    }
    slot = (slot + 1) & mask_;
  }
}

std::uint32_t LabelValues::idOf(std::string_view value) {
  value = value.substr(0, kMaxValueBytes);
  std::size_t slot = 0;
  if (const auto id = find(value, slot); id != kOther) {
    return id;
  }
  if (count_.load(std::memory_order_acquire) >= capacity_) {
    return kOther;
  }
  std::lock_guard lock(insert_);
  if (const auto id = find(value, slot); id != kOther) {
    return id;  // another thread added it meanwhile
  }
  const std::uint32_t id = count_.load(std::memory_order_relaxed);
  if (id >= capacity_) {
    return kOther;
  }
  names_[id] = std::string(value);
  slots_[slot].store(id + 1, std::memory_order_release);
  count_.store(id + 1, std::memory_order_release);
  return id;
}

std::string_view LabelValues::nameOf(std::uint32_t id) const {
  if (id >= count_.load(std::memory_order_acquire)) {
    return "other";
  }
  return names_[id];
}

}  // namespace portico::telemetry
