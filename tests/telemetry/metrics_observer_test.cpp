// The metrics observer fed by hand: what each callback counts, how labels are capped and
// escaped, and that counts from several threads add up.
#include "telemetry/metrics_observer.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "telemetry/exposition.hpp"
#include "telemetry/label_values.hpp"

namespace portico::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

// The value of the one sample line that starts with `series` ("name{labels}"), or -1.
double sampleValue(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(text.substr(at + series.size() + 2));
}

RequestInfo gatewayRequest(Clock::time_point started) {
  RequestInfo info{"POST", "/v1/chat/completions", Endpoint::kChatCompletions, true, "t", started};
  return info;
}

RequestOutcome answered(int status, std::string_view model, Clock::time_point ended) {
  RequestOutcome outcome;
  outcome.status = status;
  outcome.provider = "openai";
  outcome.model = model;
  outcome.cache_status = "DISABLED";
  outcome.ended = ended;
  return outcome;
}

TEST(LabelValues, GivesStableIdsAndFoldsPastTheCapIntoOther) {
  LabelValues values(2);
  const auto a = values.idOf("gpt-4o");
  const auto b = values.idOf("claude");
  EXPECT_NE(a, b);
  EXPECT_EQ(values.idOf("gpt-4o"), a);
  EXPECT_EQ(values.idOf("third"), LabelValues::kOther);
  EXPECT_EQ(values.nameOf(LabelValues::kOther), "other");
  EXPECT_EQ(values.nameOf(a), "gpt-4o");
  EXPECT_EQ(values.nameOf(b), "claude");
}

TEST(LabelValues, ManyThreadsAddingTheSameValuesAgreeOnTheirIds) {
  LabelValues values(64);
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint32_t>> seen(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        seen[t].push_back(values.idOf("model-" + std::to_string(i)));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (int t = 1; t < 4; ++t) {
    EXPECT_EQ(seen[t], seen[0]);
  }
}

TEST(Exposition, EscapesLabelValuesAndReplacesWhatIsNotPrintable) {
  std::string text;
  Exposition out(text);
  out.sample("m", {{"model", "a\"b\\c\nd\x01\xff"}}, std::uint64_t{3});
  EXPECT_EQ(text, "m{model=\"a\\\"b\\\\c\\nd__\"} 3\n");
}

TEST(Exposition, WritesCumulativeBucketsSumAndCount) {
  std::string text;
  Exposition out(text);
  const std::uint64_t counts[] = {1, 0, 2};
  const double bounds[] = {0.5, 1};
  out.histogram("h_seconds", {{"p", "x"}}, counts, bounds, 2, 2.75);
  EXPECT_EQ(text,
            "h_seconds_bucket{p=\"x\",le=\"0.5\"} 1\n"
            "h_seconds_bucket{p=\"x\",le=\"1\"} 1\n"
            "h_seconds_bucket{p=\"x\",le=\"+Inf\"} 3\n"
            "h_seconds_sum{p=\"x\"} 2.75\n"
            "h_seconds_count{p=\"x\"} 3\n");
}

TEST(MetricsObserver, CountsRequestsTokensCostAndDurations) {
  MetricsSettings settings;
  settings.cost = [](std::string_view model, const Usage& usage) {
    return model == "gpt-4o" ? static_cast<double>(*usage.prompt_tokens) * 0.001 : 0.0;
  };
  MetricsObserver metrics(std::move(settings));
  const auto start = Clock::now();
  RequestInfo request = gatewayRequest(start);
  request.virtual_key = "team-a";
  metrics.requestStarted(request);
  AttemptInfo attempt{"openai", "gpt-4o", "config", 0, start};
  attempt.status = 200;
  metrics.attemptStarted(request, attempt);
  metrics.upstreamAnswered(request, attempt);
  metrics.attemptEnded(request, attempt);
  RequestOutcome outcome = answered(200, "gpt-4o", start + std::chrono::milliseconds(300));
  outcome.usage = Usage{100, 20, 40, 5};
  metrics.requestEnded(request, outcome);

  const std::string text = metrics.render();
  const std::string labels = "provider=\"openai\",model=\"gpt-4o\",virtual_key=\"team-a\"";
  EXPECT_EQ(sampleValue(text,
                        "portico_requests_total{endpoint=\"chat_completions\",provider="
                        "\"openai\",model=\"gpt-4o\",status_class=\"2xx\",virtual_key="
                        "\"team-a\"}"),
            1);
  EXPECT_EQ(sampleValue(text, "portico_tokens_total{" + labels + ",type=\"input\"}"), 100);
  EXPECT_EQ(sampleValue(text, "portico_tokens_total{" + labels + ",type=\"output\"}"), 20);
  EXPECT_EQ(sampleValue(text, "portico_tokens_total{" + labels + ",type=\"cached_input\"}"), 40);
  EXPECT_EQ(sampleValue(text, "portico_tokens_total{" + labels + ",type=\"reasoning\"}"), 5);
  EXPECT_NEAR(sampleValue(text, "portico_estimated_cost_usd_total{" + labels + "}"), 0.1, 1e-9);
  const std::string duration =
      "portico_request_duration_seconds_bucket{endpoint=\"chat_completions\",provider="
      "\"openai\",model=\"gpt-4o\",le=";
  EXPECT_EQ(sampleValue(text, duration + "\"0.25\"}"), 0);
  EXPECT_EQ(sampleValue(text, duration + "\"0.5\"}"), 1);
  EXPECT_EQ(
      sampleValue(text, "portico_upstream_attempts_total{provider=\"openai\",outcome=\"2xx\"}"), 1);
  EXPECT_EQ(sampleValue(text, "portico_requests_in_flight"), 0);
}

TEST(MetricsObserver, CountsRetriesFallbacksTimeoutsCacheAndStreams) {
  MetricsObserver metrics({});
  const auto start = Clock::now();
  RequestInfo request = gatewayRequest(start);
  metrics.requestStarted(request);
  AttemptInfo attempt{"openai", "gpt-4o", "config.targets[0]", 0, start};
  attempt.error_type = "timeout";
  metrics.attemptEnded(request, attempt);
  metrics.retrying(request, attempt, std::chrono::milliseconds(1));
  metrics.fellBack(request, "openai", "config.targets[0]", 408);
  metrics.cacheLooked(request, "MISS");
  metrics.cacheLooked(request, "HIT");
  request.first_byte = start + std::chrono::milliseconds(120);
  metrics.streamStarted(request, answered(200, "gpt-4o", start));
  EXPECT_EQ(sampleValue(metrics.render(), "portico_streams_in_flight"), 1);
  RequestOutcome outcome = answered(200, "gpt-4o", Clock::now());
  outcome.streamed = true;
  metrics.requestEnded(request, outcome);

  const std::string text = metrics.render();
  EXPECT_EQ(sampleValue(text, "portico_retries_total{provider=\"openai\"}"), 1);
  EXPECT_EQ(sampleValue(text, "portico_fallbacks_total{provider=\"openai\"}"), 1);
  EXPECT_EQ(sampleValue(text, "portico_upstream_timeouts_total{provider=\"openai\"}"), 1);
  EXPECT_EQ(
      sampleValue(text, "portico_upstream_attempts_total{provider=\"openai\",outcome=\"timeout\"}"),
      1);
  EXPECT_EQ(sampleValue(text, "portico_cache_hits_total"), 1);
  EXPECT_EQ(sampleValue(text, "portico_cache_misses_total"), 1);
  EXPECT_EQ(sampleValue(text, "portico_streams_in_flight"), 0);
  const std::string first_token =
      "portico_time_to_first_token_seconds_bucket{provider=\"openai\",model=\"gpt-4o\",le=";
  EXPECT_EQ(sampleValue(text, first_token + "\"0.1\"}"), 0);
  EXPECT_EQ(sampleValue(text, first_token + "\"0.25\"}"), 1);
}

TEST(MetricsObserver, FoldsModelsPastTheCapIntoOther) {
  MetricsSettings settings;
  settings.max_models = 2;
  MetricsObserver metrics(std::move(settings));
  const auto start = Clock::now();
  for (const char* model : {"a", "b", "c", "d"}) {
    RequestInfo request = gatewayRequest(start);
    metrics.requestStarted(request);
    metrics.requestEnded(request, answered(200, model, start));
  }
  const std::string text = metrics.render();
  const std::string other =
      "portico_requests_total{endpoint=\"chat_completions\",provider=\"openai\",model=\"other\","
      "status_class=\"2xx\",virtual_key=\"\"}";
  EXPECT_EQ(sampleValue(text, other), 2);
  EXPECT_EQ(text.find("model=\"c\""), std::string::npos);
}

TEST(MetricsObserver, CountsFromManyThreadsAddUp) {
  MetricsObserver metrics({});
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      const auto start = Clock::now();
      for (int i = 0; i < kEach; ++i) {
        RequestInfo request = gatewayRequest(start);
        metrics.requestStarted(request);
        metrics.requestEnded(request, answered(i % 2 ? 500 : 200, "gpt-4o", start));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const std::string text = metrics.render();
  const std::string prefix =
      "portico_requests_total{endpoint=\"chat_completions\",provider=\"openai\",model=\"gpt-4o\","
      "status_class=";
  EXPECT_EQ(sampleValue(text, prefix + "\"2xx\",virtual_key=\"\"}") +
                sampleValue(text, prefix + "\"5xx\",virtual_key=\"\"}"),
            kThreads * kEach);
  EXPECT_EQ(sampleValue(text, "portico_requests_in_flight"), 0);
}

TEST(MetricsObserver, RequestsTheServerAnsweredItselfAreNotGatewayRequests) {
  MetricsObserver metrics({});
  RequestInfo health{"GET", "/health", Endpoint::kPassthrough, false, "", Clock::now()};
  metrics.requestStarted(health);
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.ended = Clock::now();
  metrics.requestEnded(health, outcome);
  const std::string text = metrics.render();
  EXPECT_EQ(text.find("portico_requests_total{"), std::string::npos);
  EXPECT_EQ(sampleValue(text, "portico_requests_in_flight"), 0);
  EXPECT_NE(text.find("portico_build_info{version=\""), std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
}

TEST(MetricsObserver, AModelNoUpstreamAcceptedCountsAsOtherAndTakesNoPlace) {
  MetricsSettings settings;
  settings.max_models = 1;
  MetricsObserver metrics(std::move(settings));
  const auto start = Clock::now();
  for (const auto& [status, model] : std::vector<std::pair<int, const char*>>{
           {404, "junk-1"}, {404, "junk-2"}, {200, "gpt-4o"}, {500, "gpt-4o"}}) {
    RequestInfo request = gatewayRequest(start);
    metrics.requestStarted(request);
    metrics.requestEnded(request, answered(status, model, start));
  }
  const std::string text = metrics.render();
  EXPECT_EQ(text.find("junk"), std::string::npos);
  EXPECT_EQ(sampleValue(text,
                        "portico_requests_total{endpoint=\"chat_completions\",provider="
                        "\"openai\",model=\"other\",status_class=\"4xx\",virtual_key="
                        "\"\"}"),
            2);
  EXPECT_EQ(sampleValue(text,
                        "portico_requests_total{endpoint=\"chat_completions\",provider="
                        "\"openai\",model=\"gpt-4o\",status_class=\"5xx\",virtual_key="
                        "\"\"}"),
            1);
}

TEST(LabelValues, ValuesThatRenderAlikeShareOneIdAndOtherIsTheOverflow) {
  LabelValues values(8);
  EXPECT_EQ(values.idOf("a\x01"), values.idOf("a\x02"));
  EXPECT_EQ(values.nameOf(values.idOf("a\x01")), "a_");
  EXPECT_EQ(values.idOf("other"), LabelValues::kOther);
  EXPECT_EQ(values.existingId("never-seen"), LabelValues::kOther);
}

}  // namespace
}  // namespace portico::telemetry
