#include "telemetry/otlp_exporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace portico::telemetry {
namespace {

bool accepted(int status) { return status >= 200 && status < 300; }

// What OTLP/HTTP says a client may retry.
bool retryable(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// A failing collector is reported once, then at most once a minute with a count.
constexpr std::chrono::seconds kWarningInterval{60};

constexpr std::chrono::milliseconds kWakeSlice{100};

}  // namespace

OtlpExporter::OtlpExporter(OtlpExporterOptions options, OtlpPoster poster)
    : options_(std::move(options)),
      poster_(std::move(poster)),
      headers_(options_.headers),
      queue_(128) {
  headers_.emplace_back("content-type", "application/json");
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() {
  stop();
  dropQueued();  // a span that slipped in while stop() ran
}

void OtlpExporter::submit(Span span) {
  if (!accepting_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::size_t before = pending_.fetch_add(1);
  if (before >= options_.max_queue_spans) {
    pending_.fetch_sub(1);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto owned = std::make_unique<Span>(std::move(span));
  if (!queue_.push(owned.get())) {
    pending_.fetch_sub(1);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  owned.release();
  // A full batch goes at once. Not under the mutex: the request path never waits for a lock
  // (a wake-up lost to the race is caught by the thread's next slice).
  if (before + 1 == options_.max_batch_spans) {
    wake_.notify_one();
  }
}

void OtlpExporter::countDropped(std::uint64_t spans) {
  dropped_.fetch_add(spans, std::memory_order_relaxed);
}

void OtlpExporter::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (!thread_.joinable()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    stop_deadline_ = Clock::now() + options_.stop_timeout;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  accepting_ = false;
  dropQueued();
}

bool OtlpExporter::waitFor(Clock::time_point until) {
  std::unique_lock lock(mutex_);
  // In slices: submit() wakes the thread without the mutex, so a wake-up can be lost; a full
  // batch then waits one slice, not a whole interval.
  const auto slice_end = std::min(until, Clock::now() + kWakeSlice);
  wake_.wait_until(lock, slice_end,
                   [&] { return stopping_.load() || pending_.load() >= options_.max_batch_spans; });
  return !stopping_.load();
}

void OtlpExporter::run() {
  auto next_flush = Clock::now() + options_.batch_interval;
  while (waitFor(next_flush)) {
    const bool timer = Clock::now() >= next_flush;
    while (pending_.load() >= options_.max_batch_spans && !stopping_.load()) {
      exportBatch(options_.timeout, true);
    }
    if (timer) {
      if (pending_.load() > 0 && !stopping_.load()) {
        exportBatch(options_.timeout, true);
      }
      next_flush = Clock::now() + options_.batch_interval;
    }
  }
  // Stopping: what is queued goes out within the deadline, without retries.
  while (pending_.load() > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(stop_deadline_ - Clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      break;
    }
    exportBatch(std::min(left, options_.timeout), false);
  }
}

std::vector<Span> OtlpExporter::popBatch() {
  std::vector<Span> batch;
  batch.reserve(std::min(options_.max_batch_spans, pending_.load()));
  Span* raw = nullptr;
  while (batch.size() < options_.max_batch_spans && queue_.pop(raw)) {
    std::unique_ptr<Span> span(raw);
    pending_.fetch_sub(1);
    batch.push_back(std::move(*span));
  }
  return batch;
}

void OtlpExporter::dropQueued() {
  Span* raw = nullptr;
  while (queue_.pop(raw)) {
    delete raw;
    pending_.fetch_sub(1);
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

void OtlpExporter::exportBatch(std::chrono::milliseconds timeout, bool may_retry) {
  std::vector<Span> batch = popBatch();
  if (batch.empty()) {
    return;
  }
  const std::string body = encodeOtlpTraces(batch, options_.resource, options_.scope);
  auto post = [&] {
    try {
      return poster_(options_.url, headers_, body, timeout);
    } catch (const std::exception& e) {
      return PostResult{0, "", e.what()};
    }
  };
  PostResult result = post();
  if (may_retry && retryable(result.status)) {
    std::unique_lock lock(mutex_);
    const bool stopped =
        wake_.wait_for(lock, options_.retry_delay, [&] { return stopping_.load(); });
    lock.unlock();
    if (!stopped) {
      result = post();
    }
  }
  if (!accepted(result.status)) {
    dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
    noteFailure(result, batch.size());
    return;
  }
  const std::uint64_t rejected = std::min<std::uint64_t>(rejectedSpans(result.body), batch.size());
  exported_.fetch_add(batch.size() - rejected, std::memory_order_relaxed);
  dropped_.fetch_add(rejected, std::memory_order_relaxed);
}

void OtlpExporter::noteFailure(const PostResult& result, std::size_t spans) {
  ++unreported_failures_;
  const auto now = Clock::now();
  if (last_warning_ != Clock::time_point{} && now - last_warning_ < kWarningInterval) {
    return;
  }
  last_warning_ = now;
  const std::string why = result.status != 0 ? "HTTP " + std::to_string(result.status)
                                             : (result.error.empty() ? "no answer" : result.error);
  if (unreported_failures_ > 1) {
    spdlog::warn("trace export failed ({}): {} spans dropped ({} failed exports in the last {} s)",
                 why, spans, unreported_failures_, kWarningInterval.count());
  } else {
    spdlog::warn("trace export failed ({}): {} spans dropped", why, spans);
  }
  unreported_failures_ = 0;
}

}  // namespace portico::telemetry
