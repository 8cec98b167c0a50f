#include "telemetry/label_values.hpp"

#include <algorithm>
#include <bit>
#include <functional>

namespace portico::telemetry {
namespace {

constexpr std::size_t kMaxValueBytes = 200;

bool unprintable(char c) {
  return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f;
}

// The value as it is kept; `scratch` holds it when it had to change.
std::string_view normalised(std::string_view value, std::string& scratch) {
  value = value.substr(0, kMaxValueBytes);
  if (std::none_of(value.begin(), value.end(), unprintable)) {
    return value;
  }
  scratch.assign(value);
  std::replace_if(scratch.begin(), scratch.end(), unprintable, '_');
  return scratch;
}

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

std::uint32_t LabelValues::existingId(std::string_view value) const {
  std::string scratch;
  value = normalised(value, scratch);
  std::size_t slot = 0;
  return value == "other" ? kOther : find(value, slot);
}

std::uint32_t LabelValues::idOf(std::string_view value) {
  std::string scratch;
  value = normalised(value, scratch);
  if (value == "other") {
    return kOther;
  }
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
