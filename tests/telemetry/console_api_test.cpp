// The console's routes: the page (no data, a strict policy), the token on its data endpoints,
// and, in-process behind the real server, the recent requests of live traffic.
#include "telemetry/console_api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::telemetry {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view kMetricsText =
    "# TYPE portico_requests_total counter\n"
    "portico_requests_total{endpoint=\"chatComplete\",status_class=\"2xx\"} 3\n";

AdminReply call(const std::function<AdminReply(const AdminCall&)>& handler,
                std::string_view method,
                std::string_view path,
                std::string_view authorization = "",
                std::string_view query = "") {
  return handler(AdminCall{method, path, query, authorization, ""});
}

ConsoleSources sources(const RecentRequests* recent, std::string token = "s3cret") {
  ConsoleSources out;
  out.metrics = [] { return std::string(kMetricsText); };
  out.recent = recent;
  out.token = std::move(token);
  return out;
}

std::string nonceOf(const std::string& page) {
  std::smatch match;
  const std::regex pattern("script-src 'nonce-([0-9a-f]{32})'");
  return std::regex_search(page, match, pattern) ? match[1].str() : "";
}

TEST(ConsoleApi, ThePageLoadsWithoutTheTokenAndHoldsNoData) {
  RecentRequests recent(4);
  const auto handler = makeConsoleHandler(sources(&recent));
  const AdminReply reply = call(handler, "GET", "/console");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(reply.body.starts_with("<!doctype html>"));
  EXPECT_EQ(reply.body.find("portico_requests_total{"), std::string::npos);
  EXPECT_EQ(call(handler, "HEAD", "/console/").status, 200);
  // What the page test reads.
  for (const char* id : {"chart-rate", "chart-errors", "chart-latency", "chart-ttft",
                         "chart-tokens", "chart-cost", "recent-rows"}) {
    EXPECT_NE(reply.body.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
}

TEST(ConsoleApi, EveryAnswerRefusesFramingAndCaching) {
  RecentRequests recent(4);
  const auto handler = makeConsoleHandler(sources(&recent));
  for (const char* path : {"/console", "/console/api/recent", "/console/nope"}) {
    const AdminReply reply = call(handler, "GET", path);
    EXPECT_NE(std::find(reply.headers.begin(), reply.headers.end(),
                        std::pair<std::string, std::string>("x-frame-options", "DENY")),
              reply.headers.end())
        << path;
    EXPECT_NE(std::find(reply.headers.begin(), reply.headers.end(),
                        std::pair<std::string, std::string>("cache-control", "no-store")),
              reply.headers.end())
        << path;
  }
}

TEST(ConsoleApi, ThePagesPolicyAllowsOnlyItsOwnNoncedScriptAndStyle) {
  const auto handler = makeConsoleHandler(sources(nullptr));
  const std::string first = call(handler, "GET", "/console").body;
  const std::string nonce = nonceOf(first);
  ASSERT_FALSE(nonce.empty());
  EXPECT_NE(first.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(first.find("style-src 'nonce-" + nonce + "'"), std::string::npos);
  EXPECT_NE(first.find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(first.find("unsafe-inline"), std::string::npos);
  EXPECT_NE(first.find("<script nonce=\"" + nonce + "\">"), std::string::npos);
  EXPECT_NE(first.find("<style nonce=\"" + nonce + "\">"), std::string::npos);
  EXPECT_EQ(first.find("{{NONCE}}"), std::string::npos);
  // Nothing loaded from elsewhere, and data reaches the DOM only as text.
  EXPECT_FALSE(std::regex_search(first, std::regex("(src|href)\\s*=\\s*[\"']?(https?:)?//")));
  EXPECT_EQ(first.find("url("), std::string::npos);
  EXPECT_EQ(first.find("@import"), std::string::npos);
  EXPECT_EQ(first.find("innerHTML"), std::string::npos);
  EXPECT_NE(nonceOf(call(handler, "GET", "/console").body), nonce);  // new for every page
}

TEST(ConsoleApi, DataNeedsTheToken) {
  RecentRequests recent(4);
  const auto handler = makeConsoleHandler(sources(&recent));
  for (const char* path : {"/console/api/metrics", "/console/api/recent", "/console/api/other"}) {
    for (const char* authorization :
         {"", "Bearer wrong", "Bearer s3cre", "Bearer s3cret2", "s3cret", "Basic s3cret"}) {
      const AdminReply reply = call(handler, "GET", path, authorization);
      EXPECT_EQ(reply.status, 401) << path << " " << authorization;
      EXPECT_EQ(reply.content_type, "application/json");
      EXPECT_EQ(reply.body.find("s3cret"), std::string::npos);
    }
  }
  const AdminReply metrics = call(handler, "GET", "/console/api/metrics", "Bearer s3cret");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, kMetricsText);
  EXPECT_TRUE(metrics.content_type.starts_with("text/plain"));
  EXPECT_EQ(call(handler, "GET", "/console/api/recent", "bearer  s3cret ").status, 200);
}

TEST(ConsoleApi, UnknownPathsAndMethods) {
  const auto handler = makeConsoleHandler(sources(nullptr));
  const AdminReply unknown = call(handler, "GET", "/console/api/keys", "Bearer s3cret");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["status"], "failure");
  EXPECT_EQ(call(handler, "GET", "/console/page.js").status, 404);
  EXPECT_EQ(call(handler, "POST", "/console").status, 405);
  EXPECT_EQ(call(handler, "POST", "/console/api/metrics", "Bearer s3cret").status, 405);
  EXPECT_EQ(call(handler, "DELETE", "/console/api/recent", "Bearer s3cret").status, 405);
  // The token comes before the route: without it nothing about the API is told.
  EXPECT_EQ(call(handler, "POST", "/console/api/metrics").status, 401);
}

TEST(ConsoleApi, WithoutATokenEverythingIsOpenAndMetricsMayBeOff) {
  ConsoleSources open = sources(nullptr, "");
  open.metrics = nullptr;
  const auto handler = makeConsoleHandler(std::move(open));
  EXPECT_EQ(call(handler, "GET", "/console/api/metrics").status, 404);
  const AdminReply recent = call(handler, "GET", "/console/api/recent");
  EXPECT_EQ(recent.status, 200);
  EXPECT_TRUE(json::parse(recent.body)["data"].empty());
}

TEST(ConsoleApi, RecentHonoursTheLimit) {
  RecentRequests recent(8);
  RequestInfo info;
  info.method = "POST";
  info.path = "/v1/chat/completions";
  info.gateway_route = true;
  info.started = std::chrono::steady_clock::now();
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.ended = info.started;
  for (int i = 0; i < 6; ++i) recent.requestEnded(info, outcome);
  const auto handler = makeConsoleHandler(sources(&recent, ""));
  const auto count = [&](std::string_view query) {
    return json::parse(call(handler, "GET", "/console/api/recent", "", query).body)["data"].size();
  };
  EXPECT_EQ(count(""), 6u);
  EXPECT_EQ(count("limit=2"), 2u);
  EXPECT_EQ(count("x=1&limit=0"), 1u);
  EXPECT_EQ(count("limit=999"), 6u);
  EXPECT_EQ(count("limit=abc"), 6u);
  const json body = json::parse(call(handler, "GET", "/console/api/recent").body);
  EXPECT_GT(body["now_ms"].get<std::int64_t>(), 0);
}

// Counts requestEnded calls; added after RecentRequests, so when it has seen n requests end,
// the ring has recorded them (both run in order on the request's thread).
class EndCounter : public Observer {
 public:
  void requestEnded(const RequestInfo& request, const RequestOutcome&) override {
    if (!request.gateway_route) return;
    std::lock_guard lock(mutex_);
    ++ended_;
    changed_.notify_all();
  }
  bool waitFor(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return ended_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int ended_ = 0;
};

std::string completion() {
  return json{{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"model", "gpt-4o-mini"},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", "hi"}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 9}, {"completion_tokens", 4}}}}
      .dump();
}

TEST(ConsoleInProcess, TheServerAnswersTheConsoleWithLiveRequests) {
  using testing::FakeResponse;
  testing::FakeUpstream upstream([](const testing::RecordedRequest& request) {
    const json body = json::parse(request.body);
    if (body["model"] == "broken") return FakeResponse::json(500, R"({"error":"down"})");
    if (body.value("stream", false)) {
      return FakeResponse::sse(
          {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n",
           "data: [DONE]\n\n"});
    }
    return FakeResponse::json(200, completion());
  });
  auto recent = std::make_shared<RecentRequests>(50);
  auto counter = std::make_shared<EndCounter>();
  ServerOptions options = testing::TestGateway::defaultOptions();
  options.observers = {recent, counter};
  options.console = makeConsoleHandler(sources(recent.get()));
  testing::TestGateway gateway(options);

  const testing::Headers headers = {{"content-type", "application/json"},
                                    {"x-portkey-provider", "openai"},
                                    {"x-portkey-api-key", "sk-never-shown"},
                                    {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
  const auto chat = [&](const std::string& model, bool stream) {
    const json body = {{"model", model},
                       {"stream", stream},
                       {"messages", {{{"role", "user"}, {"content", "top-secret-prompt"}}}}};
    return testing::postJson(gateway.port(), "/v1/chat/completions?secret=q", headers, body.dump());
  };
  EXPECT_EQ(chat("gpt-4o-mini", false).status, 200);
  EXPECT_EQ(chat("gpt-4o-mini", true).status, 200);
  EXPECT_EQ(chat("broken", false).status, 500);
  ASSERT_TRUE(counter->waitFor(3));

  const auto page = testing::httpRequest(gateway.port(), "GET", "/console");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(testing::httpRequest(gateway.port(), "GET", "/console/api/recent").status, 401);

  const auto answer = testing::httpRequest(gateway.port(), "GET", "/console/api/recent?limit=10",
                                           {{"authorization", "Bearer s3cret"}});
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body.find("sk-never-shown"), std::string::npos);
  EXPECT_EQ(answer.body.find("secret=q"), std::string::npos);
  EXPECT_EQ(answer.body.find("top-secret-prompt"), std::string::npos);
  const json data = json::parse(answer.body)["data"];
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0]["status"], 500);
  EXPECT_EQ(data[0]["model"], "broken");
  EXPECT_EQ(data[1]["status"], 200);
  EXPECT_TRUE(data[1]["streamed"].get<bool>());
  EXPECT_FALSE(data[1]["ttft_seconds"].is_null());
  EXPECT_EQ(data[2]["input_tokens"], 9);
  EXPECT_EQ(data[2]["output_tokens"], 4);
  EXPECT_TRUE(data[2]["ttft_seconds"].is_null());
  for (const auto& item : data) {
    EXPECT_EQ(item["path"], "/v1/chat/completions");
    EXPECT_EQ(item["provider"], "openai");
    EXPECT_EQ(item["trace_id"].get<std::string>().size(), 36u);  // a generated UUID
  }
}

}  // namespace
}  // namespace portico::telemetry
