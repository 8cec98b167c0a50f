#pragma once

#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/otlp_json.hpp"
#include "telemetry/otlp_post.hpp"
#include "telemetry/span.hpp"

namespace portico::telemetry {

struct OtlpExporterOptions {
  std::string url;                            // the full OTLP/HTTP traces URL (".../v1/traces")
  PostHeaders headers;                        // sent with every batch (OTEL_EXPORTER_OTLP_HEADERS)
  std::chrono::milliseconds timeout{10'000};  // one POST, connect to answer
  std::size_t max_queue_spans = 2048;         // past it, spans are dropped
  std::size_t max_batch_spans = 512;
  std::chrono::milliseconds batch_interval{1'000};  // a partial batch waits at most this long
  // A 429, 502, 503 or 504 is tried once more after this; anything else failed is dropped.
  std::chrono::milliseconds retry_delay{500};
  // How long stop() spends sending what is still queued.
  std::chrono::milliseconds stop_timeout{5'000};
  std::vector<Attribute> resource;  // service.name and the rest
  OtlpScope scope{"portico", PORTICO_VERSION};
};

// Sends finished spans to an OTLP/HTTP collector in batches, off the request path: submit()
// only pushes onto a bounded lock-free queue; one background thread takes up to
// max_batch_spans at a time (at once when a batch is full, else every batch_interval),
// encodes them as OTLP JSON and posts them. A full queue or a failed POST drops spans and
// counts them, so a dead collector costs requests nothing and memory stays bounded.
class OtlpExporter : public SpanSink {
 public:
  OtlpExporter(OtlpExporterOptions options, OtlpPoster poster);
  ~OtlpExporter() override;
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Safe from every thread at once; never blocks.
  void submit(Span span) override;
  void countDropped(std::uint64_t spans) override;

  // Sends what is queued (for up to stop_timeout, after a POST under way), then ends the
  // thread; later spans are dropped. Idempotent; the destructor calls it.
  void stop();

  // Spans the collector accepted, and spans lost (queue full, POST failed or rejected, left
  // at stop). Readable from any thread, e.g. for portico_trace_spans_*_total.
  std::uint64_t exported() const { return exported_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::size_t queued() const { return pending_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  bool waitFor(Clock::time_point until);  // false once stopping
  void exportBatch(std::chrono::milliseconds timeout, bool may_retry);
  std::vector<Span> popBatch();
  void dropQueued();
  void noteFailure(const PostResult& result, std::size_t spans);

  const OtlpExporterOptions options_;
  const OtlpPoster poster_;
  PostHeaders headers_;  // options' headers plus content-type
  boost::lockfree::queue<Span*> queue_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> exported_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<bool> accepting_{true};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // for the thread's waits only; the request path never takes it
  std::condition_variable wake_;
  Clock::time_point stop_deadline_;
  Clock::time_point last_warning_{};
  std::uint64_t unreported_failures_ = 0;
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace portico::telemetry
