// /metrics, /ready and the JSON log of the real binary, after traffic of every kind.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/temp_path.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kDelayedFirstEvent = 300ms;

const char* kCompletion =
    R"({"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}})";

const char* kAnthropicMessage =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",)"
    R"("content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",)"
    R"("usage":{"input_tokens":7,"output_tokens":2}})";

// An OpenAI- and Anthropic-speaking upstream: model "fail" answers 500; streams start after
// kDelayedFirstEvent.
FakeResponse answer(const RecordedRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  const std::string model = body.is_object() ? body.value("model", "") : "";
  if (model == "fail") {
    return FakeResponse::json(500, R"({"error":{"message":"boom"}})");
  }
  if (request.path() == "/v1/messages") {
    return FakeResponse::json(200, kAnthropicMessage);
  }
  if (body.is_object() && body.value("stream", false)) {
    FakeResponse stream = FakeResponse::sse(
        {"data: {\"id\":\"s1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
         "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n",
         "data: {\"id\":\"s1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
         "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
         "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n",
         "data: [DONE]\n\n"});
    stream.delay_before_headers = kDelayedFirstEvent;
    return stream;
  }
  return FakeResponse::json(200, kCompletion);
}

std::string chatBody(const std::string& model, bool stream = false) {
  return json{{"model", model},
              {"stream", stream},
              {"messages", {{{"role", "user"}, {"content", "Hello"}}}}}
      .dump();
}

json target(const FakeUpstream& upstream, const std::string& provider = "openai") {
  return {{"provider", provider},
          {"api_key", "sk-metrics-test"},
          {"custom_host", upstream.baseUrl() + "/v1"}};
}

Headers withConfig(const json& config) {
  return {{"content-type", "application/json"}, {"x-portkey-config", config.dump()}};
}

// The sum of every sample of `name` whose labels include all of `labels` ("k=\"v\"" each).
double total(const std::string& text,
             const std::string& name,
             const std::vector<std::string>& labels = {}) {
  double sum = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name) || (line[name.size()] != '{' && line[name.size()] != ' ')) {
      continue;
    }
    const std::string series = line.substr(0, line.rfind(' '));
    bool match = true;
    for (const auto& label : labels) {
      match = match && series.find(label) != std::string::npos;
    }
    if (match) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

// promtool's verdict on an exposition: its exit status and what it printed.
std::pair<int, std::string> promtoolCheck(const std::string& text) {
  const std::string path = uniqueTempPath("portico-metrics").string() + ".txt";
  std::ofstream(path) << text;
  const std::string command = "promtool check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[512];
  while (pipe != nullptr && std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    output += buffer;
  }
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  std::remove(path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

unsigned short freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(MetricsEndToEnd, AScrapeAfterEveryKindOfTrafficPassesPromtoolAndAddsUp) {
  FakeUpstream upstream(answer);
  GatewayProcess portico({"--threads", "2"});
  const auto port = portico.port();
  int sent = 0;
  auto send = [&](const json& config, const std::string& body) {
    ++sent;
    return postJson(port, "/v1/chat/completions", withConfig(config), body);
  };
  EXPECT_EQ(send(target(upstream), chatBody("gpt-4o")).status, 200);        // plain
  EXPECT_EQ(send(target(upstream), chatBody("gpt-4o", true)).status, 200);  // streamed
  EXPECT_EQ(send(target(upstream, "anthropic"), chatBody("claude-3-5-haiku-20241022")).status,
            200);                                                   // translated
  EXPECT_EQ(send(target(upstream), chatBody("fail")).status, 500);  // failing
  json retried = target(upstream);
  retried["retry"] = {{"attempts", 1}, {"on_status_codes", {500}}};
  EXPECT_EQ(send(retried, chatBody("fail")).status, 500);  // retried
  json failing_first = target(upstream);
  failing_first["override_params"] = {{"model", "fail"}};
  const json fallback = {{"strategy", {{"mode", "fallback"}}},
                         {"targets", {failing_first, target(upstream)}}};
  EXPECT_EQ(send(fallback, chatBody("gpt-4o")).status, 200);  // fallen back
  json cached = target(upstream);
  cached["cache"] = {{"mode", "simple"}};
  EXPECT_EQ(send(cached, chatBody("gpt-4o-mini")).status, 200);  // cache miss
  auto hit = send(cached, chatBody("gpt-4o-mini"));              // cache hit
  EXPECT_EQ(hit.header("x-portkey-cache-status"), "HIT");

  // A request is counted just after its answer's last byte went out, maybe on another worker
  // than the scrape's (which reads the shards one after the other): scrape until the last one
  // is in and nothing is in flight, within a bound; the checks below then say what is wrong.
  HttpResponse scrape;
  for (const auto until = std::chrono::steady_clock::now() + 5s;;) {
    scrape = httpRequest(port, "GET", "/metrics");
    ASSERT_EQ(scrape.status, 200);
    const bool settled = total(scrape.body, "portico_requests_in_flight") == 0 &&
                         total(scrape.body, "portico_requests_total") == sent;
    if (settled || std::chrono::steady_clock::now() > until) {
      break;
    }
  }
  EXPECT_EQ(scrape.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = scrape.body;
  const auto [status, verdict] = promtoolCheck(text);
  EXPECT_EQ(status, 0) << verdict << "\n" << text;

  EXPECT_EQ(total(text, "portico_requests_total"), sent);
  EXPECT_EQ(total(text, "portico_requests_total", {"status_class=\"2xx\""}), 6);
  EXPECT_EQ(total(text, "portico_requests_total", {"status_class=\"5xx\""}), 2);
  EXPECT_EQ(total(text, "portico_request_duration_seconds_count"), sent);
  EXPECT_EQ(total(text, "portico_retries_total", {"provider=\"openai\""}), 1);
  EXPECT_EQ(total(text, "portico_fallbacks_total", {"provider=\"openai\""}), 1);
  EXPECT_EQ(total(text, "portico_cache_hits_total"), 1);
  EXPECT_EQ(total(text, "portico_cache_misses_total"), 1);
  // Attempts: plain, stream, anthropic, fail, fail twice (retry), fallback's two, the miss.
  EXPECT_EQ(total(text, "portico_upstream_attempts_total"), 9);
  EXPECT_EQ(total(text, "portico_upstream_attempts_total", {"outcome=\"5xx\""}), 4);
  EXPECT_EQ(upstream.requestCount(), 9u);
  // Tokens: the plain answer, the stream's usage, the fallback's and the miss's answers (the
  // hit spent nothing), and the translated Anthropic answer under its own provider.
  EXPECT_EQ(total(text, "portico_tokens_total", {"provider=\"openai\"", "type=\"input\""}),
            10 + 5 + 10 + 10);
  EXPECT_EQ(total(text, "portico_tokens_total", {"provider=\"anthropic\"", "type=\"output\""}), 2);
  EXPECT_GT(total(text, "portico_estimated_cost_usd_total", {"model=\"gpt-4o\""}), 0);
  // The stream's first event came kDelayedFirstEvent late: not within 0.25 s, within 0.5 s.
  const std::vector<std::string> streamed = {"provider=\"openai\"", "model=\"gpt-4o\""};
  auto bucket = [&](const char* le) {
    auto labels = streamed;
    labels.push_back(std::string("le=\"") + le + "\"");
    return total(text, "portico_time_to_first_token_seconds_bucket", labels);
  };
  EXPECT_EQ(bucket("0.25"), 0);
  EXPECT_EQ(bucket("0.5"), 1);
  EXPECT_EQ(total(text, "portico_time_to_first_token_seconds_count"), 1);
  EXPECT_EQ(total(text, "portico_requests_in_flight"), 0);
  EXPECT_EQ(total(text, "portico_streams_in_flight"), 0);
  EXPECT_GE(total(text, "portico_upstream_connections_created_total"), 1);
  EXPECT_GE(total(text, "portico_client_connections_accepted_total"), sent);
  EXPECT_EQ(total(text, "portico_metric_series_dropped_total"), 0);
  EXPECT_EQ(total(text, "portico_upstream_connections", {"state=\"active\""}), 0);
  EXPECT_EQ(total(text, "portico_build_info"), 1);
  // Keys never reach the metrics.
  EXPECT_EQ(text.find("sk-metrics-test"), std::string::npos);
  EXPECT_EQ(portico.terminate(), 0);
}

TEST(MetricsEndToEnd, MetricsCanBeOffOrOnTheirOwnPort) {
  GatewayProcess off({"--metrics", "off"});
  EXPECT_EQ(httpRequest(off.port(), "GET", "/metrics").status, 404);
  EXPECT_EQ(off.terminate(), 0);

  const unsigned short metrics_port = freePort();
  GatewayProcess apart({"--metrics-port", std::to_string(metrics_port)});
  EXPECT_EQ(httpRequest(apart.port(), "GET", "/metrics").status, 404);
  const auto scrape = httpRequest(metrics_port, "GET", "/metrics");
  EXPECT_EQ(scrape.status, 200);
  EXPECT_NE(scrape.body.find("portico_requests_total"), std::string::npos);
  EXPECT_EQ(httpRequest(metrics_port, "POST", "/v1/chat/completions", {}, "{}").status, 404);
  EXPECT_EQ(httpRequest(metrics_port, "GET", "/ready").status, 200);
  EXPECT_EQ(apart.terminate(), 0);
}

TEST(ReadyEndToEnd, ReadyTurns503WhileTheGatewayDrains) {
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  FakeUpstream upstream([&](const RecordedRequest&) {
    FakeResponse stream = FakeResponse::sse({"data: {\"choices\":[]}\n\n", "data: [DONE]\n\n"});
    stream.before_chunk = [&](std::size_t i) {
      if (i == 1) {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, 10s, [&] { return release; });
      }
    };
    return stream;
  });
  const unsigned short metrics_port = freePort();
  GatewayProcess portico(
      {"--metrics-port", std::to_string(metrics_port), "--shutdown-grace-ms", "10000"});
  EXPECT_EQ(httpRequest(portico.port(), "GET", "/ready").status, 200);
  EXPECT_EQ(httpRequest(metrics_port, "GET", "/ready").status, 200);
  StreamingResponse stream(portico.port(), "/v1/chat/completions", withConfig(target(upstream)),
                           chatBody("gpt-4o", true));
  ASSERT_EQ(stream.status(), 200);
  ASSERT_FALSE(stream.readSome().empty());  // the stream is under way, held by the upstream

  ASSERT_EQ(::kill(portico.pid(), SIGTERM), 0);
  int ready = 200;
  std::string body;
  for (const auto until = std::chrono::steady_clock::now() + 5s;
       ready == 200 && std::chrono::steady_clock::now() < until;) {
    const auto answer = httpRequest(metrics_port, "GET", "/ready");
    ready = answer.status;
    body = answer.body;
  }
  EXPECT_EQ(ready, 503);
  EXPECT_EQ(json::parse(body)["status"], "draining");
  EXPECT_EQ(httpRequest(metrics_port, "GET", "/health").status, 200);  // still alive
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  EXPECT_NE(stream.readAll().find("[DONE]"), std::string::npos);
  EXPECT_EQ(portico.terminate(), 0);
}

TEST(JsonLogEndToEnd, EveryLineIsJsonAndNoneCarriesAKey) {
  FakeUpstream upstream(answer);
  const std::string key = "sk-json-log-secret-0123456789";
  GatewayProcess portico({"--log-format", "json", "--log-level", "debug"});
  postJson(portico.port(), "/v1/chat/completions?api_key=" + key,
           {{"x-portkey-provider", "openai"},
            {"authorization", "Bearer " + key},
            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
           chatBody("gpt-4o"));
  postJson(portico.port(), "/v1/chat/completions",
           {{"x-portkey-provider", "openai"},
            {"x-portkey-api-key", key},
            {"x-portkey-custom-host", "http://10.0.0.1/v1"}},
           chatBody("gpt-4o"));
  ASSERT_EQ(portico.terminate(), 0);
  const std::string log = portico.output();
  EXPECT_EQ(log.find(key), std::string::npos) << log;
  EXPECT_EQ(log.find("api_key="), std::string::npos) << log;
  std::istringstream lines(log);
  int access_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    const json parsed = json::parse(line, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << line;
    EXPECT_TRUE(parsed.contains("time") && parsed.contains("level")) << line;
    if (parsed.value("type", "") == "access" && parsed.value("provider", "") == "openai" &&
        parsed.value("status", 0) == 200) {
      ++access_lines;
      EXPECT_EQ(parsed["path"], "/v1/chat/completions");
      EXPECT_EQ(parsed["model"], "gpt-4o");
      EXPECT_EQ(parsed["prompt_tokens"], 10);
      EXPECT_EQ(parsed["completion_tokens"], 3);
      EXPECT_EQ(parsed["retries"], 0);
      EXPECT_EQ(parsed["cache_status"], "DISABLED");
      EXPECT_TRUE(parsed["upstream_seconds"].is_number());
      EXPECT_TRUE(parsed["total_seconds"].is_number());
      EXPECT_FALSE(parsed.value("trace_id", "").empty());
    }
  }
  EXPECT_EQ(access_lines, 1) << log;
}

}  // namespace
}  // namespace portico::testing
