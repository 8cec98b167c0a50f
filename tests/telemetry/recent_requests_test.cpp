// The console's ring of recent requests: what it keeps and leaves out, its order and bound,
// time to first token, and consistent copies while several threads write at once.
#include "telemetry/recent_requests.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace portico::telemetry {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

RequestInfo gatewayRequest(std::string_view path = "/v1/chat/completions") {
  RequestInfo info;
  info.method = "POST";
  info.path = path;
  info.endpoint = Endpoint::kChatCompletions;
  info.gateway_route = true;
  info.trace_id = "trace-1";
  info.started = Clock::now() - 250ms;
  return info;
}

RequestOutcome outcome(int status, std::string_view model = "gpt-4o-mini") {
  RequestOutcome out;
  out.status = status;
  out.provider = "openai";
  out.model = model;
  out.cache_status = "MISS";
  out.upstream_time = 200ms;
  out.ended = Clock::now();
  return out;
}

TEST(RecentRequests, KeepsWhatTheConsoleShows) {
  RecentRequests recent(8, [](std::string_view model, const Usage& usage) {
    EXPECT_EQ(model, "gpt-4o-mini");
    return std::optional<double>(static_cast<double>(*usage.prompt_tokens) * 1e-6);
  });
  RequestInfo info = gatewayRequest();
  info.virtual_key = "team-a";
  RequestOutcome out = outcome(200);
  out.retry_count = 2;
  out.usage = Usage{12, 5, 4, std::nullopt};
  recent.requestEnded(info, out);

  const auto records = recent.snapshot(10);
  ASSERT_EQ(records.size(), 1u);
  const RecentRecord& r = records[0];
  EXPECT_EQ(r.method.view(), "POST");
  EXPECT_EQ(r.path.view(), "/v1/chat/completions");
  EXPECT_EQ(r.provider.view(), "openai");
  EXPECT_EQ(r.model.view(), "gpt-4o-mini");
  EXPECT_EQ(r.cache.view(), "MISS");
  EXPECT_EQ(r.virtual_key.view(), "team-a");
  EXPECT_EQ(r.trace_id.view(), "trace-1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.retries, 2);
  EXPECT_NEAR(r.total_seconds, 0.25, 0.2);
  EXPECT_DOUBLE_EQ(r.upstream_seconds, 0.2);
  EXPECT_LT(r.ttft_seconds, 0);  // not streamed

  const nlohmann::json json = recent.snapshotJson(10);
  EXPECT_EQ(json["object"], "list");
  EXPECT_EQ(json["capacity"], 8);
  EXPECT_EQ(json["recorded"], 1);
  const auto& item = json["data"][0];
  EXPECT_EQ(item["endpoint"], "chatComplete");
  EXPECT_EQ(item["input_tokens"], 12);
  EXPECT_EQ(item["output_tokens"], 5);
  EXPECT_EQ(item["cached_tokens"], 4);
  EXPECT_TRUE(item["reasoning_tokens"].is_null());
  EXPECT_TRUE(item["ttft_seconds"].is_null());
  EXPECT_DOUBLE_EQ(item["cost_usd"].get<double>(), 12e-6);
  EXPECT_GT(item["time_ms"].get<std::int64_t>(), 0);
}

TEST(RecentRequests, IgnoresLocalAnswersAndUnknownPrices) {
  RecentRequests recent(4, [](std::string_view, const Usage&) { return std::optional<double>(); });
  RequestInfo health = gatewayRequest("/health");
  health.gateway_route = false;
  recent.requestEnded(health, outcome(200));
  EXPECT_TRUE(recent.snapshot(10).empty());

  RequestOutcome out = outcome(200);
  out.usage = Usage{1, 1, std::nullopt, std::nullopt};
  recent.requestEnded(gatewayRequest(), out);
  EXPECT_TRUE(recent.snapshotJson(10)["data"][0]["cost_usd"].is_null());
}

TEST(RecentRequests, NewestFirstAndBoundedByCapacity) {
  RecentRequests recent(4);
  const RequestInfo info = gatewayRequest();
  for (int i = 0; i < 10; ++i) recent.requestEnded(info, outcome(200 + i));
  const auto records = recent.snapshot(100);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].status, 209);
  EXPECT_EQ(records[3].status, 206);
  EXPECT_EQ(recent.snapshot(2).size(), 2u);
  EXPECT_EQ(recent.recorded(), 10u);
}

TEST(RecentRequests, CutsLongTextOnACharacterBoundary) {
  RecentRequests recent(2);
  std::string path = "/v1/" + std::string(90, 'a') + "\xC3\xA9\xC3\xA9\xC3\xA9";  // é é é
  recent.requestEnded(gatewayRequest(path), outcome(200, std::string(300, 'm')));
  const auto record = recent.snapshot(1).at(0);
  EXPECT_LE(record.path.view().size(), 96u);
  EXPECT_TRUE(record.path.view().ends_with("\xE2\x80\xA6"));
  EXPECT_EQ(record.model.view(), std::string(61, 'm') + "\xE2\x80\xA6");
  // Still valid UTF-8: a strict dump does not throw.
  EXPECT_NO_THROW(static_cast<void>(recent.snapshotJson(1).dump()));
}

TEST(RecentRequests, TimesTheFirstByteOfStreamsOnly) {
  RecentRequests recent(4);
  RequestInfo streamed = gatewayRequest();
  streamed.first_byte = Clock::now();
  RequestOutcome out = outcome(200);
  out.streamed = true;
  recent.requestEnded(streamed, out);
  const double ttft = recent.snapshot(1).at(0).ttft_seconds;
  EXPECT_GE(ttft, 0.25);
  EXPECT_LT(ttft, 10);

  // A stream whose first bytes never came has no time to first byte.
  RequestInfo again = streamed;
  again.first_byte = {};
  recent.requestEnded(again, out);
  EXPECT_LT(recent.snapshot(1).at(0).ttft_seconds, 0);

  // Nor has an answer that was not streamed.
  RequestOutcome whole = outcome(200);
  recent.requestEnded(streamed, whole);
  EXPECT_LT(recent.snapshot(1).at(0).ttft_seconds, 0);
}

// Every field of a record written by thread t for its n-th request derives from (t, n), so a
// torn copy (parts of two records) shows as a mismatch.
TEST(RecentRequests, ReadersNeverSeeTornRecordsWhileWorkersWrite) {
  RecentRequests recent(16);
  constexpr int kWriters = 4;
  constexpr int kEach = 4000;
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int n = 0; n < kEach; ++n) {
        const std::string model = "m-" + std::to_string(t) + "-" + std::to_string(n);
        const std::string path = "/v1/p" + std::to_string(t * kEach + n);
        RequestInfo info = gatewayRequest(path);
        RequestOutcome out = outcome(100 + t, model);
        out.retry_count = n;
        out.usage = Usage{t * kEach + n, n, std::nullopt, std::nullopt};
        recent.requestEnded(info, out);
      }
      writers_done.fetch_add(1);
    });
  }
  std::size_t checked = 0;
  int mismatches = 0;
  while (writers_done.load() < kWriters || checked == 0) {
    for (const RecentRecord& r : recent.snapshot(16)) {
      const int t = r.status - 100;
      const int n = r.retries;
      const bool consistent =
          r.model.view() == "m-" + std::to_string(t) + "-" + std::to_string(n) &&
          r.path.view() == "/v1/p" + std::to_string(t * kEach + n) &&
          r.input_tokens == t * kEach + n && r.output_tokens == n;
      mismatches += consistent ? 0 : 1;
      ++checked;
    }
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(checked, 0u);
  EXPECT_EQ(recent.recorded() + recent.dropped(), static_cast<std::uint64_t>(kWriters * kEach));
  // Under contention a record may be dropped (its slot busy, or a later one already in it), so
  // the ring's last 16 tickets need not all be there; once writers are alone again, it fills.
  EXPECT_LE(recent.snapshot(100).size(), 16u);
  for (int n = 0; n < 16; ++n) {
    recent.requestEnded(gatewayRequest("/v1/after"), outcome(200, "m-after"));
  }
  const auto last = recent.snapshot(100);
  ASSERT_EQ(last.size(), 16u);
  for (const RecentRecord& r : last) EXPECT_EQ(r.model.view(), "m-after");
}

// A writer held up between taking its ticket and writing (here: inside the cost function,
// while two later requests end and the second takes its slot) leaves the later record there.
TEST(RecentRequests, ALateWriterNeverReplacesALaterRecord) {
  RecentRequests* ring = nullptr;
  bool nested = false;
  RecentRequests recent(2, [&](std::string_view model, const Usage&) -> std::optional<double> {
    if (model == "late" && !nested) {
      nested = true;
      ring->requestEnded(gatewayRequest(), outcome(200, "later-1"));
      ring->requestEnded(gatewayRequest(), outcome(200, "later-2"));  // ticket 3: 1's slot
    }
    return 0.0;
  });
  ring = &recent;
  RequestOutcome late = outcome(200, "late");
  late.usage = Usage{1, 1, std::nullopt, std::nullopt};
  recent.requestEnded(gatewayRequest(), late);
  EXPECT_EQ(recent.dropped(), 1u);
  const auto records = recent.snapshot(10);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].model.view(), "later-2");
  EXPECT_EQ(records[1].model.view(), "later-1");
}

}  // namespace
}  // namespace portico::telemetry
