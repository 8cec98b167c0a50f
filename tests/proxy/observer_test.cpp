// The observer calls of the pipeline, in order and content, through the real server: success,
// retry, fallback, stream, and a client that hangs up. A recording observer is added with
// ServerOptions::observers, as metrics and traces will be.

#include "portico/observer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string usageText(const std::optional<Usage>& usage) {
  if (!usage) return "-";
  return std::to_string(usage->prompt_tokens.value_or(-1)) + "/" +
         std::to_string(usage->completion_tokens.value_or(-1));
}

// Records every call as one line; requestEnded wakes waiters (it runs after the answer was
// written, so a test waits for it instead of racing it).
class RecordingObserver : public Observer {
 public:
  void requestStarted(const RequestInfo& r) override {
    add("requestStarted " + std::string(r.method) + " " + std::string(r.path));
  }
  void attemptStarted(const RequestInfo&, const AttemptInfo& a) override {
    add("attemptStarted " + std::string(a.provider) + " " + std::string(a.model) + " " +
        std::string(a.option_index) + " retry=" + std::to_string(a.retry));
  }
  void upstreamAnswered(const RequestInfo&, const AttemptInfo& a) override {
    add("upstreamAnswered " + std::to_string(a.status));
  }
  void firstByte(const RequestInfo&, const AttemptInfo&) override { add("firstByte"); }
  void attemptEnded(const RequestInfo&, const AttemptInfo& a) override {
    add("attemptEnded " + std::to_string(a.status) + " usage=" + usageText(a.usage) +
        (a.failure.empty() ? "" : " failed"));
  }
  void retrying(const RequestInfo&, const AttemptInfo& a, std::chrono::milliseconds) override {
    add("retrying after " + std::to_string(a.retry));
  }
  void cacheLooked(const RequestInfo&, std::string_view status) override {
    add("cache " + std::string(status));
  }
  void requestEnded(const RequestInfo& r, const RequestOutcome& o) override {
    std::lock_guard lock(mutex_);
    ended_trace_ = std::string(r.trace_id);
    lines_.push_back("requestEnded " + std::to_string(o.status) + " " + std::string(o.provider) +
                     " " + std::string(o.model) + " " + std::string(o.option_index) +
                     " retries=" + std::to_string(o.retry_count) +
                     " cache=" + std::string(o.cache_status) + " usage=" + usageText(o.usage) +
                     (o.streamed ? " streamed" : "") + (o.client_gone ? " gone" : ""));
    ++ended_;
    changed_.notify_all();
  }

  // Waits for `n` requestEnded calls; returns the lines so far.
  std::vector<std::string> waitForEnds(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 10s, [&] { return ended_ >= n; });
    return lines_;
  }
  std::string endedTrace() {
    std::lock_guard lock(mutex_);
    return ended_trace_;
  }

 private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  int ended_ = 0;
  std::string ended_trace_;
};

const std::string kChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]})";

std::string completion() {
  return json{{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"created", 1},
              {"model", "gpt-4o-mini"},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", "hi"}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}, {"total_tokens", 10}}}}
      .dump();
}

struct Fixture {
  explicit Fixture(Handler handler) : upstream(std::move(handler)) {
    ServerOptions options = TestGateway::defaultOptions();
    options.retry_delay_scale = 0.001;
    options.observers.push_back(observer);
    gateway = std::make_unique<TestGateway>(options);
  }
  json target(json extra = json::object()) const {
    json node = {{"provider", "openai"},
                 {"api_key", "sk-test"},
                 {"custom_host", upstream.baseUrl() + "/v1"}};
    for (auto& [key, value] : extra.items()) node[key] = value;
    return node;
  }
  HttpResponse post(const json& config, const std::string& body = kChat) {
    return postJson(gateway->port(), "/v1/chat/completions",
                    {{"content-type", "application/json"}, {"x-portkey-config", config.dump()}},
                    body);
  }
  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
  FakeUpstream upstream;
  std::unique_ptr<TestGateway> gateway;
};

TEST(PipelineObservers, SuccessReportsOneAttemptWithItsUsage) {
  Fixture f([](const RecordedRequest&) { return FakeResponse::json(200, completion()); });
  auto response = f.post(f.target());
  ASSERT_EQ(response.status, 200);
  const std::vector<std::string> expected = {
      "requestStarted POST /v1/chat/completions",
      "attemptStarted openai gpt-4o-mini config retry=0", "upstreamAnswered 200",
      "attemptEnded 200 usage=7/3",
      "requestEnded 200 openai gpt-4o-mini config retries=0 cache=DISABLED usage=7/3"};
  EXPECT_EQ(f.observer->waitForEnds(1), expected);
  EXPECT_EQ(f.observer->endedTrace(), response.header("x-portkey-trace-id"));
}

TEST(PipelineObservers, RetriesAreSeparateAttemptsWithARetryBetween) {
  std::atomic<int> calls{0};
  Fixture f([&](const RecordedRequest&) {
    return calls++ == 0 ? FakeResponse::json(503, R"({"error":{"message":"busy"}})")
                        : FakeResponse::json(200, completion());
  });
  auto response = f.post(f.target({{"retry", {{"attempts", 2}}}}));
  ASSERT_EQ(response.status, 200);
  const std::vector<std::string> expected = {
      "requestStarted POST /v1/chat/completions",
      "attemptStarted openai gpt-4o-mini config retry=0",
      "upstreamAnswered 503",
      "attemptEnded 503 usage=-",
      "retrying after 0",
      "attemptStarted openai gpt-4o-mini config retry=1",
      "upstreamAnswered 200",
      "attemptEnded 200 usage=7/3",
      "requestEnded 200 openai gpt-4o-mini config retries=1 cache=DISABLED usage=7/3"};
  EXPECT_EQ(f.observer->waitForEnds(1), expected);
}

TEST(PipelineObservers, FallbackNamesEachTargetsOptionIndex) {
  Fixture f([](const RecordedRequest& request) {
    return request.header("authorization") == "Bearer sk-bad"
               ? FakeResponse::json(500, R"({"error":{"message":"down"}})")
               : FakeResponse::json(200, completion());
  });
  json config = {{"strategy", {{"mode", "fallback"}}},
                 {"targets", {f.target({{"api_key", "sk-bad"}}), f.target()}}};
  auto response = f.post(config);
  ASSERT_EQ(response.status, 200);
  const std::vector<std::string> expected = {
      "requestStarted POST /v1/chat/completions",
      "attemptStarted openai gpt-4o-mini config.targets[0] retry=0",
      "upstreamAnswered 500",
      "attemptEnded 500 usage=-",
      "attemptStarted openai gpt-4o-mini config.targets[1] retry=0",
      "upstreamAnswered 200",
      "attemptEnded 200 usage=7/3",
      "requestEnded 200 openai gpt-4o-mini config.targets[1] retries=0 cache=DISABLED "
      "usage=7/3"};
  EXPECT_EQ(f.observer->waitForEnds(1), expected);
}

TEST(PipelineObservers, StreamsReportTheFirstByteAndTheStreamsUsage) {
  Fixture f([](const RecordedRequest&) {
    json delta = {{"id", "c1"},
                  {"object", "chat.completion.chunk"},
                  {"created", 1},
                  {"model", "gpt-4o-mini"},
                  {"choices", {{{"index", 0}, {"delta", {{"content", "hi"}}}}}}};
    json usage = {{"id", "c1"},
                  {"object", "chat.completion.chunk"},
                  {"created", 1},
                  {"model", "gpt-4o-mini"},
                  {"choices", json::array()},
                  {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 2}}}};
    return FakeResponse::sse(
        {"data: " + delta.dump() + "\n\n", "data: " + usage.dump() + "\n\n", "data: [DONE]\n\n"});
  });
  const std::string body =
      R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"Hello"}]})";
  auto response = f.post(f.target(), body);
  ASSERT_EQ(response.status, 200);
  auto lines = f.observer->waitForEnds(1);
  ASSERT_EQ(lines.size(), 6u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[2], "upstreamAnswered 200");
  EXPECT_EQ(lines[3], "firstByte");
  EXPECT_EQ(lines[5],
            "requestEnded 200 openai gpt-4o-mini config retries=0 cache=DISABLED usage=5/2 "
            "streamed");
}

TEST(PipelineObservers, AClientThatHangsUpEndsAs499) {
  Fixture f([](const RecordedRequest&) {
    FakeResponse slow = FakeResponse::json(200, completion());
    slow.delay_before_headers = 3s;
    return slow;
  });
  const std::string config = f.target().dump();
  const std::string raw =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
      "content-type: application/json\r\nx-portkey-config: " +
      config + "\r\ncontent-length: " + std::to_string(kChat.size()) + "\r\n\r\n" + kChat;
  sendRawAndClose(f.gateway->port(), raw, [&] { return f.upstream.waitForRequests(1, 5s); });
  auto lines = f.observer->waitForEnds(1);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(),
            "requestEnded 499 openai gpt-4o-mini config retries=0 cache=DISABLED usage=- gone");
}

TEST(PipelineObservers, LocalAnswersAreObservedToo) {
  Fixture f([](const RecordedRequest&) { return FakeResponse::json(200, completion()); });
  auto response = httpRequest(f.gateway->port(), "GET", "/health");
  ASSERT_EQ(response.status, 200);
  auto lines = f.observer->waitForEnds(1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "requestStarted GET /health");
  EXPECT_EQ(lines[1].substr(0, 17), "requestEnded 200 ");
}

}  // namespace
}  // namespace portico::testing
