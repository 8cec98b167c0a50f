#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace portico::telemetry {

// The values one metric label has taken, each with a small id, up to a cap: past it every new
// value is "other", so a client that sends a new model name with every request cannot grow
// the series without bound. Looking up a known value takes no lock (the request path); only
// the first sight of a value takes one.
class LabelValues {
 public:
  static constexpr std::uint32_t kOther = 0xffff;

  explicit LabelValues(std::size_t capacity);
  LabelValues(const LabelValues&) = delete;
  LabelValues& operator=(const LabelValues&) = delete;

  // The id of `value`, or kOther once the cap is reached. Values are kept as the exposition
  // will show them (at most 200 bytes, bytes outside printable ASCII as '_'), so two values
  // that would render alike share one id; a value spelled "other" is kOther.
  std::uint32_t idOf(std::string_view value);
  // The id of a value seen before, else kOther; never adds one (for values a client can
  // invent that did not prove real, so that they cannot use up the cap).
  std::uint32_t existingId(std::string_view value) const;
  // The value of `id`: "other" for kOther.
  std::string_view nameOf(std::uint32_t id) const;

 private:
  std::uint32_t find(std::string_view value, std::size_t& slot) const;

  const std::size_t capacity_;
  const std::size_t mask_;                               // of the slot table, twice the capacity
  std::unique_ptr<std::atomic<std::uint32_t>[]> slots_;  // id + 1, 0: empty
  std::unique_ptr<std::string[]> names_;                 // written before their slot is published
  std::atomic<std::uint32_t> count_{0};
  std::mutex insert_;
};

}  // namespace portico::telemetry
