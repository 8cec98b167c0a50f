#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "portico/encoding.hpp"
#include "portico/observer.hpp"
#include "portico/usage.hpp"

namespace portico::telemetry {

// Text of at most N bytes, cut on a UTF-8 boundary with "…" when longer. Trivially copyable,
// so a whole record can be copied word by word through the ring's atomics.
template <std::size_t N>
struct FixedText {
  static_assert(N >= 4 && N <= 255);
  std::array<char, N> bytes{};
  std::uint8_t length = 0;

  void assign(std::string_view text) {
    std::size_t keep = text.size();
    std::string_view tail;
    if (keep > N) {
      tail = "\xE2\x80\xA6";
      keep = utf8Prefix(text, N - tail.size()).size();  // not inside a character
    }
    // Empty views may hold a null pointer, which memcpy must not get.
    if (keep > 0) std::memcpy(bytes.data(), text.data(), keep);
    if (!tail.empty()) std::memcpy(bytes.data() + keep, tail.data(), tail.size());
    length = static_cast<std::uint8_t>(keep + tail.size());
  }
  std::string_view view() const { return {bytes.data(), length}; }
};

// One finished gateway request, as the console lists it: no body, header, query or key.
struct RecentRecord {
  std::uint64_t ticket = 0;  // 0: an empty slot
  std::int64_t unix_ms = 0;  // when it ended
  double total_seconds = 0;
  double upstream_seconds = 0;
  double ttft_seconds = -1;        // streamed answers only; < 0: unknown
  double cost_usd = -1;            // < 0: unknown
  std::int64_t input_tokens = -1;  // < 0: not reported
  std::int64_t output_tokens = -1;
  std::int64_t cached_tokens = -1;
  std::int64_t reasoning_tokens = -1;
  std::int32_t status = 0;
  std::int32_t retries = 0;
  Endpoint endpoint = Endpoint::kPassthrough;
  bool streamed = false;
  bool stream_broken = false;
  bool client_gone = false;
  FixedText<8> method;
  FixedText<96> path;
  FixedText<32> provider;
  FixedText<64> model;
  FixedText<12> cache;
  FixedText<48> virtual_key;
  FixedText<40> trace_id;
};

// Keeps the last `capacity` finished gateway requests for the console. Writers (the workers)
// never lock: each takes a ticket, and writes its record into the ticket's slot of a fixed
// ring under that slot's sequence number (a seqlock); readers copy a slot and keep the copy
// only if the sequence number did not move and the ticket is the one they wanted. A writer
// that finds its slot being written by another (the ring lapped a stalled writer) drops its
// record rather than wait.
class RecentRequests final : public Observer {
 public:
  // USD for `usage` of `model`, or nothing when the price is unknown. Called on the request
  // path from every worker: must be quick and thread-safe.
  using CostFunction =
      std::function<std::optional<double>(std::string_view model, const Usage& usage)>;

  explicit RecentRequests(std::size_t capacity = 200, CostFunction cost = {});
  ~RecentRequests() override;
  RecentRequests(const RecentRequests&) = delete;
  RecentRequests& operator=(const RecentRequests&) = delete;

  void requestEnded(const RequestInfo& request, const RequestOutcome& outcome) override;

  // The newest `limit` records, newest first.
  std::vector<RecentRecord> snapshot(std::size_t limit) const;
  // {"object":"list","capacity":...,"recorded":...,"dropped":...,"data":[{...}, ...]}. Its
  // strings are what clients sent (path, model): dump it with error_handler_t::replace.
  nlohmann::json snapshotJson(std::size_t limit) const;

  std::size_t capacity() const { return capacity_; }
  std::uint64_t recorded() const;  // records written since start
  std::uint64_t dropped() const;   // records given up on a busy slot

 private:
  struct Slot;
  void write(const RecentRecord& record);
  bool read(std::uint64_t ticket, RecentRecord& out) const;

  std::size_t capacity_;
  CostFunction cost_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<std::uint64_t> next_ticket_{1};
  std::atomic<std::uint64_t> dropped_{0};
};

// One record as the console's JSON shows it (null for what is unknown).
nlohmann::json recordJson(const RecentRecord& record);

}  // namespace portico::telemetry
