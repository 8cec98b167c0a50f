#include "telemetry/recent_requests.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace portico::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

static_assert(std::is_trivially_copyable_v<RecentRecord>);
constexpr std::size_t kWords = (sizeof(RecentRecord) + 7) / 8;
using Words = std::array<std::uint64_t, kWords>;

double secondsOf(Clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

std::int64_t countOf(const std::optional<std::int64_t>& value) { return value.value_or(-1); }

}  // namespace

struct alignas(64) RecentRequests::Slot {
  std::atomic<std::uint64_t> sequence{0};  // odd while a writer is in the slot
  std::array<std::atomic<std::uint64_t>, kWords> words{};
};

RecentRequests::RecentRequests(std::size_t capacity, CostFunction cost)
    : capacity_(capacity), cost_(std::move(cost)) {
  if (capacity_ == 0) throw std::invalid_argument("RecentRequests needs a capacity");
  slots_ = std::make_unique<Slot[]>(capacity_);
}

RecentRequests::~RecentRequests() = default;

void RecentRequests::requestEnded(const RequestInfo& request, const RequestOutcome& outcome) {
  if (!request.gateway_route) return;
  // The pipeline keeps when the latest streamed attempt's first bytes came (a retried stream
  // counts the attempt that answered).
  const bool timed = outcome.streamed && request.first_byte != Clock::time_point{};
  const double ttft = timed ? secondsOf(request.first_byte - request.started) : -1;
  RecentRecord record;
  record.ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
  record.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const Clock::time_point ended = outcome.ended > request.started ? outcome.ended : Clock::now();
  record.total_seconds = secondsOf(ended - request.started);
  record.upstream_seconds = secondsOf(outcome.upstream_time);
  record.ttft_seconds = ttft;
  if (outcome.usage) {
    record.input_tokens = countOf(outcome.usage->prompt_tokens);
    record.output_tokens = countOf(outcome.usage->completion_tokens);
    record.cached_tokens = countOf(outcome.usage->cached_tokens);
    record.reasoning_tokens = countOf(outcome.usage->reasoning_tokens);
    if (cost_ && outcome.cache_status != "HIT") {  // a cached answer cost nothing upstream
      const auto cost = cost_(outcome.model, *outcome.usage);
      if (cost && *cost >= 0) record.cost_usd = *cost;
    }
  }
  record.status = outcome.status;
  record.retries = outcome.retry_count;
  record.endpoint = request.endpoint;
  record.streamed = outcome.streamed;
  record.stream_broken = outcome.stream_broken;
  record.client_gone = outcome.client_gone;
  record.method.assign(request.method);
  record.path.assign(request.path.substr(0, request.path.find('?')));
  record.provider.assign(outcome.provider);
  record.model.assign(outcome.model);
  record.cache.assign(outcome.cache_status);
  record.virtual_key.assign(request.virtual_key);
  record.trace_id.assign(request.trace_id);
  write(record);
}

void RecentRequests::write(const RecentRecord& record) {
  Words buffer{};
  std::memcpy(buffer.data(), &record, sizeof(RecentRecord));
  Slot& slot = slots_[record.ticket % capacity_];
  std::uint64_t sequence = slot.sequence.load(std::memory_order_relaxed);
  if ((sequence & 1) != 0 ||
      !slot.sequence.compare_exchange_strong(sequence, sequence + 1, std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A writer that took its ticket before a later one wrote this slot (it was preempted in
  // between) leaves the later record, which the slot's readers look for.
  static_assert(offsetof(RecentRecord, ticket) == 0);
  if (slot.words[0].load(std::memory_order_relaxed) > record.ticket) {
    slot.sequence.store(sequence, std::memory_order_relaxed);  // the words did not change
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Orders the odd sequence number before the words: a reader that sees any new word then
  // sees the sequence number moved.
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t i = 0; i < kWords; ++i) {
    slot.words[i].store(buffer[i], std::memory_order_relaxed);
  }
  slot.sequence.store(sequence + 2, std::memory_order_release);
}

bool RecentRequests::read(std::uint64_t ticket, RecentRecord& out) const {
  const Slot& slot = slots_[ticket % capacity_];
  for (int tries = 0; tries < 4; ++tries) {
    const std::uint64_t before = slot.sequence.load(std::memory_order_acquire);
    if ((before & 1) != 0) continue;
    Words buffer{};
    for (std::size_t i = 0; i < kWords; ++i) {
      buffer[i] = slot.words[i].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.sequence.load(std::memory_order_relaxed) != before) continue;
    // RecentRecord is trivially copyable (asserted above); the cast says so to -Wclass-memaccess.
    std::memcpy(static_cast<void*>(&out), buffer.data(), sizeof(RecentRecord));
    return out.ticket == ticket;
  }
  return false;
}

std::vector<RecentRecord> RecentRequests::snapshot(std::size_t limit) const {
  std::vector<RecentRecord> out;
  const std::uint64_t end = next_ticket_.load(std::memory_order_acquire);
  const std::uint64_t oldest = end > capacity_ ? end - capacity_ : 1;
  out.reserve(std::min<std::uint64_t>(limit, end - oldest));
  RecentRecord record;
  for (std::uint64_t ticket = end; ticket > oldest && out.size() < limit; --ticket) {
    if (read(ticket - 1, record)) out.push_back(record);
  }
  return out;
}

std::uint64_t RecentRequests::recorded() const {
  return next_ticket_.load(std::memory_order_relaxed) - 1 - dropped();
}

std::uint64_t RecentRequests::dropped() const { return dropped_.load(std::memory_order_relaxed); }

nlohmann::json RecentRequests::snapshotJson(std::size_t limit) const {
  nlohmann::json data = nlohmann::json::array();
  for (const RecentRecord& record : snapshot(limit)) data.push_back(recordJson(record));
  return {{"object", "list"},
          {"capacity", capacity_},
          {"recorded", recorded()},
          {"dropped", dropped()},
          {"data", std::move(data)}};
}

nlohmann::json recordJson(const RecentRecord& record) {
  const auto count = [](std::int64_t value) {
    return value < 0 ? nlohmann::json() : nlohmann::json(value);
  };
  const auto amount = [](double value) {
    return value < 0 ? nlohmann::json() : nlohmann::json(value);
  };
  const auto text = [](std::string_view value) { return std::string(value); };
  return {{"time_ms", record.unix_ms},
          {"method", text(record.method.view())},
          {"path", text(record.path.view())},
          {"endpoint", std::string(endpointName(record.endpoint))},
          {"provider", text(record.provider.view())},
          {"model", text(record.model.view())},
          {"status", record.status},
          {"total_seconds", record.total_seconds},
          {"upstream_seconds", record.upstream_seconds},
          {"ttft_seconds", amount(record.ttft_seconds)},
          {"input_tokens", count(record.input_tokens)},
          {"output_tokens", count(record.output_tokens)},
          {"cached_tokens", count(record.cached_tokens)},
          {"reasoning_tokens", count(record.reasoning_tokens)},
          {"cost_usd", amount(record.cost_usd)},
          {"cache", text(record.cache.view())},
          {"retries", record.retries},
          {"streamed", record.streamed},
          {"stream_broken", record.stream_broken},
          {"client_gone", record.client_gone},
          {"virtual_key", text(record.virtual_key.view())},
          {"trace_id", text(record.trace_id.view())}};
}

}  // namespace portico::telemetry
