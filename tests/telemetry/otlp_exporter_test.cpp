// The batching exporter with a fake poster: full batches go at once, partial ones on the
// interval, what is queued on stop; a full queue, failed or rejected POSTs and spans after stop
// are dropped and counted; one bounded retry on 429/503; stop is bounded by its timeout.
#include "telemetry/otlp_exporter.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace portico::telemetry {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Call {
  std::string url;
  PostHeaders headers;
  std::size_t spans = 0;
  std::chrono::milliseconds timeout{0};
};

// Records each POST and answers with `answer(call number)`.
class FakeCollector {
 public:
  std::function<PostResult(std::size_t)> answer = [](std::size_t) { return PostResult{200}; };
  // When set, each POST blocks until its timeout passes (a collector that never answers).
  bool black_hole = false;

  OtlpPoster poster() {
    return [this](const std::string& url, const PostHeaders& headers, const std::string& body,
                  std::chrono::milliseconds timeout) {
      const json parsed = json::parse(body);
      Call call{url, headers, parsed["resourceSpans"][0]["scopeSpans"][0]["spans"].size(), timeout};
      std::unique_lock lock(mutex_);
      calls_.push_back(call);
      const std::size_t number = calls_.size();
      changed_.notify_all();
      if (black_hole) {
        changed_.wait_for(lock, timeout, [] { return false; });
        return PostResult{0, "", "timed out"};
      }
      lock.unlock();
      return answer(number);
    };
  }
  bool waitForCalls(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Call> calls_;
};

Span span(std::uint64_t id = 1) {
  Span out;
  out.trace_id[0] = 1;
  out.span_id = id;
  out.name = "span";
  out.kind = SpanKind::kServer;
  return out;
}

OtlpExporterOptions options() {
  OtlpExporterOptions out;
  out.url = "http://collector:4318/v1/traces";
  out.headers = {{"api-key", "secret"}};
  out.batch_interval = 1h;  // only full batches and stop() send, unless a test says otherwise
  out.retry_delay = 1ms;
  return out;
}

TEST(OtlpExporter, FullBatchesGoAtOnceAndTheRestOnStop) {
  FakeCollector collector;
  OtlpExporter exporter(options(), collector.poster());
  for (std::uint64_t i = 0; i < 1200; ++i) exporter.submit(span(i + 1));
  ASSERT_TRUE(collector.waitForCalls(2));
  exporter.stop();
  auto calls = collector.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].spans, 512u);
  EXPECT_EQ(calls[1].spans, 512u);
  EXPECT_EQ(calls[2].spans, 176u);
  EXPECT_EQ(exporter.exported(), 1200u);
  EXPECT_EQ(exporter.dropped(), 0u);
  EXPECT_EQ(exporter.queued(), 0u);
}

TEST(OtlpExporter, SendsTheUrlHeadersAndTimeout) {
  FakeCollector collector;
  auto opts = options();
  opts.timeout = 1234ms;
  OtlpExporter exporter(opts, collector.poster());
  exporter.submit(span());
  exporter.stop();
  auto calls = collector.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].url, "http://collector:4318/v1/traces");
  const PostHeaders expected = {{"api-key", "secret"}, {"content-type", "application/json"}};
  EXPECT_EQ(calls[0].headers, expected);
  EXPECT_EQ(calls[0].timeout, 1234ms);
}

TEST(OtlpExporter, APartialBatchGoesOnTheInterval) {
  FakeCollector collector;
  auto opts = options();
  opts.batch_interval = 20ms;
  OtlpExporter exporter(opts, collector.poster());
  for (std::uint64_t i = 0; i < 3; ++i) exporter.submit(span(i + 1));
  ASSERT_TRUE(collector.waitForCalls(1));
  EXPECT_EQ(collector.calls()[0].spans, 3u);
}

TEST(OtlpExporter, AFullQueueDropsAndCounts) {
  FakeCollector collector;
  auto opts = options();
  opts.max_queue_spans = 10;
  opts.max_batch_spans = 100;  // never full: nothing leaves before stop()
  OtlpExporter exporter(opts, collector.poster());
  for (std::uint64_t i = 0; i < 25; ++i) exporter.submit(span(i + 1));
  EXPECT_EQ(exporter.dropped(), 15u);
  EXPECT_EQ(exporter.queued(), 10u);
  exporter.stop();
  EXPECT_EQ(exporter.exported(), 10u);
  EXPECT_EQ(exporter.dropped(), 15u);
}

TEST(OtlpExporter, FailedPostsDropTheirSpans) {
  for (const PostResult& failure :
       {PostResult{0, "", "cannot connect"}, PostResult{400, "bad", ""}, PostResult{500}}) {
    FakeCollector collector;
    collector.answer = [&](std::size_t) { return failure; };
    OtlpExporter exporter(options(), collector.poster());
    for (std::uint64_t i = 0; i < 4; ++i) exporter.submit(span(i + 1));
    exporter.stop();
    EXPECT_EQ(exporter.exported(), 0u);
    EXPECT_EQ(exporter.dropped(), 4u);
    EXPECT_EQ(collector.calls().size(), 1u) << failure.status;  // no retry
  }
}

TEST(OtlpExporter, RetriesOnceOnBusyAnswers) {
  auto opts = options();
  opts.max_batch_spans = 2;
  {
    FakeCollector collector;
    collector.answer = [](std::size_t n) { return PostResult{n == 1 ? 503 : 200}; };
    OtlpExporter exporter(opts, collector.poster());
    exporter.submit(span(1));
    exporter.submit(span(2));
    ASSERT_TRUE(collector.waitForCalls(2));
    exporter.stop();
    EXPECT_EQ(exporter.exported(), 2u);
    EXPECT_EQ(exporter.dropped(), 0u);
  }
  {
    FakeCollector collector;
    collector.answer = [](std::size_t) { return PostResult{429}; };
    OtlpExporter exporter(opts, collector.poster());
    exporter.submit(span(1));
    exporter.submit(span(2));
    ASSERT_TRUE(collector.waitForCalls(2));
    exporter.stop();
    EXPECT_EQ(collector.calls().size(), 2u);  // one retry, no more
    EXPECT_EQ(exporter.exported(), 0u);
    EXPECT_EQ(exporter.dropped(), 2u);
  }
}

TEST(OtlpExporter, PartialSuccessCountsTheRejected) {
  FakeCollector collector;
  collector.answer = [](std::size_t) {
    return PostResult{200, R"({"partialSuccess":{"rejectedSpans":"2"}})", ""};
  };
  OtlpExporter exporter(options(), collector.poster());
  for (std::uint64_t i = 0; i < 5; ++i) exporter.submit(span(i + 1));
  exporter.stop();
  EXPECT_EQ(exporter.exported(), 3u);
  EXPECT_EQ(exporter.dropped(), 2u);
}

TEST(OtlpExporter, APosterThatThrowsLosesOnlyItsBatch) {
  FakeCollector collector;
  auto opts = options();
  opts.max_batch_spans = 1;
  collector.answer = [](std::size_t n) -> PostResult {
    if (n == 1) throw std::runtime_error("boom");
    return PostResult{200};
  };
  OtlpExporter exporter(opts, collector.poster());
  exporter.submit(span(1));
  ASSERT_TRUE(collector.waitForCalls(1));
  exporter.submit(span(2));
  ASSERT_TRUE(collector.waitForCalls(2));
  exporter.stop();
  EXPECT_EQ(exporter.exported(), 1u);
  EXPECT_EQ(exporter.dropped(), 1u);
}

TEST(OtlpExporter, SpansAfterStopAreDropped) {
  FakeCollector collector;
  OtlpExporter exporter(options(), collector.poster());
  exporter.stop();
  exporter.stop();  // idempotent
  exporter.submit(span());
  exporter.countDropped(2);
  EXPECT_EQ(exporter.dropped(), 3u);
  EXPECT_TRUE(collector.calls().empty());
}

TEST(OtlpExporter, ADeadCollectorKeepsMemoryAndStopBounded) {
  FakeCollector collector;
  collector.black_hole = true;
  auto opts = options();
  opts.max_queue_spans = 100;
  opts.max_batch_spans = 10;
  opts.timeout = 50ms;
  opts.stop_timeout = 120ms;
  OtlpExporter exporter(opts, collector.poster());
  for (std::uint64_t i = 0; i < 1000; ++i) exporter.submit(span(i + 1));
  EXPECT_LE(exporter.queued(), 100u);
  EXPECT_GE(exporter.dropped(), 890u);  // the queue holds 100, a batch may be in the air
  const auto before_stop = std::chrono::steady_clock::now();
  exporter.stop();
  // One POST under way (50 ms) plus the stop budget (120 ms), with room for a slow machine.
  EXPECT_LT(std::chrono::steady_clock::now() - before_stop, 2s);
  EXPECT_EQ(exporter.exported(), 0u);
  EXPECT_EQ(exporter.dropped(), 1000u);
  EXPECT_EQ(exporter.queued(), 0u);
  for (const auto& call : collector.calls()) EXPECT_LE(call.timeout, 120ms);
}

TEST(OtlpExporter, ManyThreadsSubmitAtOnce) {
  FakeCollector collector;
  auto opts = options();
  opts.max_queue_spans = 100'000;
  OtlpExporter exporter(opts, collector.poster());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&exporter, t] {
      for (std::uint64_t i = 0; i < 2000; ++i) exporter.submit(span(t * 10'000 + i + 1));
    });
  }
  for (auto& thread : threads) thread.join();
  exporter.stop();
  EXPECT_EQ(exporter.exported(), 8000u);
  EXPECT_EQ(exporter.dropped(), 0u);
  std::size_t posted = 0;
  for (const auto& call : collector.calls()) {
    EXPECT_LE(call.spans, 512u);
    posted += call.spans;
  }
  EXPECT_EQ(posted, 8000u);
}

}  // namespace
}  // namespace portico::telemetry
