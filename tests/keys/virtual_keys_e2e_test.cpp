// Virtual keys end to end: the binary's CLI makes keys in a temp data dir, the binary serves
// requests with them against fake upstreams, and the admin API drives the same store.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/temp_path.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

constexpr const char* kMasterKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
constexpr const char* kSecret = "sk-upstream-secret-4242";
const std::string kChat =
    R"({"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]})";

struct CliResult {
  int status = -1;
  std::string output;
  std::string lastLine() const {
    std::string text = output;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    auto newline = text.rfind('\n');
    return newline == std::string::npos ? text : text.substr(newline + 1);
  }
};

class VirtualKeysEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = uniqueTempPath("portico_vk_e2e");
    std::filesystem::remove_all(dir_);
    ::setenv("PORTICO_MASTER_KEY", kMasterKey, 1);
    ::unsetenv("PORTICO_ADMIN_TOKEN");
  }
  void TearDown() override {
    ::unsetenv("PORTICO_MASTER_KEY");
    ::unsetenv("PORTICO_ADMIN_TOKEN");
    std::filesystem::remove_all(dir_);
  }

  // `portico keys ARGS --data-dir DIR`, with `input` on stdin; stdout and stderr together.
  CliResult cli(const std::string& args, const std::string& input = "") const {
    const auto input_file = dir_.string() + ".stdin";
    {
      std::FILE* f = std::fopen(input_file.c_str(), "w");
      std::fwrite(input.data(), 1, input.size(), f);
      std::fclose(f);
    }
    const std::string command = std::string(kGatewayBinaryPath) + " keys " + args + " --data-dir " +
                                dir_.string() + " < " + input_file + " 2>&1";
    CliResult result;
    std::FILE* pipe = ::popen(command.c_str(), "r");
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
      result.output.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::filesystem::remove(input_file);
    return result;
  }

  // A key for the fake upstream; returns the pk- key.
  std::string createKey(const std::string& name,
                        const FakeUpstream& upstream,
                        const std::string& extra = "") const {
    auto made = cli("create --name " + name + " --provider openai --api-key-stdin --custom-host " +
                        upstream.baseUrl() + "/v1 " + extra,
                    kSecret);
    EXPECT_EQ(made.status, 0) << made.output;
    EXPECT_TRUE(made.lastLine().starts_with("pk-")) << made.output;
    EXPECT_EQ(made.output.find(kSecret), std::string::npos);
    return made.lastLine();
  }

  GatewayProcess gateway(std::vector<std::string> args = {}) const {
    args.insert(args.begin(), {"--data-dir", dir_.string()});
    return GatewayProcess(std::move(args));
  }

  std::filesystem::path dir_;
};

FakeResponse chatAnswer(int prompt, int completion) {
  return FakeResponse::json(
      200, json{{"id", "c1"},
                {"object", "chat.completion"},
                {"model", "gpt-4o-mini"},
                {"choices", json::array({{{"index", 0},
                                          {"message", {{"role", "assistant"}, {"content", "ok"}}},
                                          {"finish_reason", "stop"}}})},
                {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}}}}
               .dump());
}

HttpResponse callWithKey(const GatewayProcess& portico,
                         const std::string& key,
                         Headers extra = {},
                         const std::string& body = kChat) {
  extra.emplace_back("x-portkey-virtual-key", key);
  return postJson(portico.port(), "/v1/chat/completions", extra, body);
}

TEST_F(VirtualKeysEndToEnd, TheSeedExampleWorksWithAKeyMadeByTheCli) {
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(5, 2); });
  const std::string key = createKey("team-a", upstream);
  auto portico = gateway();

  auto answer = callWithKey(portico, key);
  ASSERT_EQ(answer.status, 200) << answer.body;
  ASSERT_EQ(upstream.requestCount(), 1u);
  EXPECT_EQ(upstream.lastRequest()->header("authorization"), std::string("Bearer ") + kSecret);
  EXPECT_EQ(answer.header("x-portkey-provider"), "openai");

  auto listed = cli("list");
  EXPECT_EQ(listed.status, 0);
  EXPECT_NE(listed.output.find("team-a"), std::string::npos);
  EXPECT_EQ(listed.output.find(kSecret), std::string::npos);
  EXPECT_EQ(listed.output.find(key), std::string::npos);  // only the prefix is kept
  portico.terminate();
  EXPECT_EQ(portico.output().find(kSecret), std::string::npos);
  EXPECT_EQ(portico.output().find(key), std::string::npos);
}

TEST_F(VirtualKeysEndToEnd, ConfigTargetsFallBackAcrossTwoKeys) {
  FakeUpstream broken([](const RecordedRequest&) {
    return FakeResponse::json(500, R"({"error":{"message":"down"}})");
  });
  FakeUpstream healthy([](const RecordedRequest&) { return chatAnswer(5, 2); });
  const std::string first = createKey("first", broken);
  const std::string second = createKey("second", healthy);
  auto portico = gateway();

  const json config = {
      {"strategy", {{"mode", "fallback"}}},
      {"targets", json::array({{{"virtual_key", first}}, {{"virtual_key", second}}})}};
  auto answer = postJson(portico.port(), "/v1/chat/completions",
                         {{"x-portkey-config", config.dump()}}, kChat);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(broken.requestCount(), 1u);
  EXPECT_EQ(healthy.requestCount(), 1u);
}

TEST_F(VirtualKeysEndToEnd, AKeysOwnConfigRoutesItsRequests) {
  FakeUpstream broken([](const RecordedRequest&) {
    return FakeResponse::json(503, R"({"error":{"message":"down"}})");
  });
  FakeUpstream healthy([](const RecordedRequest&) { return chatAnswer(5, 2); });
  const std::string primary = createKey("primary", broken);
  const std::string backup = createKey("backup", healthy);
  const auto config_file = dir_.string() + ".config.json";
  {
    const json config = {
        {"strategy", {{"mode", "fallback"}}},
        {"targets", json::array({{{"virtual_key", primary}}, {{"virtual_key", backup}}})}};
    std::FILE* f = std::fopen(config_file.c_str(), "w");
    const std::string text = config.dump();
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  // The key clients hold names only the plan: its own provider is never called.
  FakeUpstream unused([](const RecordedRequest&) { return chatAnswer(1, 1); });
  const std::string routed = createKey("routed", unused, "--config-file " + config_file);
  std::filesystem::remove(config_file);
  auto portico = gateway({"--auth", "virtual-keys"});

  auto answer = callWithKey(portico, routed);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(broken.requestCount(), 1u);
  EXPECT_EQ(healthy.requestCount(), 1u);
  EXPECT_EQ(unused.requestCount(), 0u);
}

TEST_F(VirtualKeysEndToEnd, AClientCustomHostWithAKeyIsRefusedBeforeAnyCall) {
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(1, 1); });
  FakeUpstream collector([](const RecordedRequest&) { return chatAnswer(1, 1); });
  const std::string key = createKey("guarded", upstream);
  auto portico = gateway();

  auto by_header =
      callWithKey(portico, key, {{"x-portkey-custom-host", collector.baseUrl() + "/v1"}});
  EXPECT_EQ(by_header.status, 400) << by_header.body;
  const json config = {{"virtual_key", key}, {"custom_host", collector.baseUrl() + "/v1"}};
  auto by_config = postJson(portico.port(), "/v1/chat/completions",
                            {{"x-portkey-config", config.dump()}}, kChat);
  EXPECT_EQ(by_config.status, 400) << by_config.body;
  EXPECT_EQ(collector.requestCount(), 0u);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(VirtualKeysEndToEnd, AuthModeRequiresAVirtualKey) {
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(1, 1); });
  const std::string key = createKey("only", upstream);
  auto portico = gateway({"--auth", "virtual-keys"});

  auto raw = postJson(portico.port(), "/v1/chat/completions",
                      {{"x-portkey-provider", "openai"},
                       {"x-portkey-api-key", "sk-raw"},
                       {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                      kChat);
  EXPECT_EQ(raw.status, 401) << raw.body;
  const json config = {{"provider", "openai"}, {"api_key", "sk-raw"}};
  auto by_config = postJson(portico.port(), "/v1/chat/completions",
                            {{"x-portkey-config", config.dump()}}, kChat);
  EXPECT_EQ(by_config.status, 401) << by_config.body;
  EXPECT_EQ(callWithKey(portico, key).status, 200);
  EXPECT_EQ(callWithKey(portico, "pk-not-a-key").status, 401);
  EXPECT_EQ(upstream.requestCount(), 1u);
}

TEST_F(VirtualKeysEndToEnd, RequestsPerMinuteAnswer429WithRateLimitHeaders) {
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(1, 1); });
  const std::string key = createKey("limited", upstream, "--rpm 2");
  auto portico = gateway();
  EXPECT_EQ(callWithKey(portico, key).status, 200);
  EXPECT_EQ(callWithKey(portico, key).status, 200);
  auto refused = callWithKey(portico, key);
  // Two requests may straddle a minute boundary; a third refusal then comes on the next try.
  if (refused.status == 200) {
    refused = callWithKey(portico, key);
    refused = refused.status == 200 ? callWithKey(portico, key) : refused;
  }
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.header("x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(refused.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(refused.header("retry-after").empty());
  EXPECT_EQ(json::parse(refused.body)["error"]["code"], "rate_limit_exceeded");
}

TEST_F(VirtualKeysEndToEnd, ConcurrentRequestsCannotOvershootASmallBudget) {
  // Each answer uses 20 tokens; each call reserves its estimate (about 30). 200 requests at
  // once against 1000 tokens: the answers admitted can spend at most the budget.
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(10, 10); });
  const std::string key = createKey("budget", upstream, "--budget-tokens 1000");
  auto portico = gateway();

  constexpr int kRequests = 200;
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i) {
    clients.emplace_back([&] {
      const int status = callWithKey(portico, key).status;
      if (status == 200) {
        ++ok;
      } else if (status == 402) {
        ++refused;
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  EXPECT_EQ(ok + refused, kRequests);
  EXPECT_GT(refused.load(), 0);
  EXPECT_LE(ok.load() * 20, 1000);  // spent within the budget: reservations covered every call
  // And the budget was used, not refused early: in flight at once, reservations of about 33
  // tokens each fit 30 times.
  EXPECT_GE(ok.load(), 25);

  // After a restart, what was spent still counts.
  ASSERT_EQ(portico.terminate(), 0);
  auto again = gateway();
  auto after = callWithKey(again, key);
  EXPECT_EQ(after.status, 402) << after.body;
  EXPECT_EQ(json::parse(after.body)["budget"]["limit"], "tokens");
  auto usage = cli("usage --json");
  ASSERT_EQ(usage.status, 0) << usage.output;
  EXPECT_NE(usage.output.find("\"requests\""), std::string::npos);
}

TEST_F(VirtualKeysEndToEnd, AStreamSettlesTheBudgetWithItsFinalUsage) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    // The gateway asked for the usage chunk the client did not.
    const bool asked = json::parse(request.body)["stream_options"]["include_usage"] == true;
    std::vector<std::string> events = {
        R"({"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]})"};
    if (asked) {
      events.push_back(
          R"({"id":"s","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":400,"completion_tokens":500}})");
    }
    events.push_back("[DONE]");
    for (auto& event : events) {
      event = "data: " + event + "\n\n";
    }
    return FakeResponse::sse(events);
  });
  const std::string key = createKey("streamed", upstream, "--budget-tokens 920");
  auto portico = gateway();
  const std::string body =
      R"({"model":"gpt-4o-mini","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"Hi"}]})";
  auto first = callWithKey(portico, key, {}, body);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body.find("\"usage\""), std::string::npos);  // not asked for: not relayed
  auto second = callWithKey(portico, key, {}, body);
  // 900 of 920 spent: the next call's estimate (about 36 tokens) does not fit.
  EXPECT_EQ(second.status, 402) << second.body << portico.output();
}

TEST_F(VirtualKeysEndToEnd, TheAdminApiIsOffWithoutATokenAndGuardedWithOne) {
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(1, 1); });
  {
    auto portico = gateway();
    EXPECT_EQ(httpRequest(portico.port(), "GET", "/admin/v1/keys").status, 404);
  }
  ::setenv("PORTICO_ADMIN_TOKEN", "admin-secret", 1);
  auto portico = gateway();
  EXPECT_EQ(httpRequest(portico.port(), "GET", "/admin/v1/keys").status, 401);
  EXPECT_EQ(httpRequest(portico.port(), "GET", "/admin/v1/keys",
                        {{"authorization", "Bearer admin-secretX"}})
                .status,
            401);
  const Headers admin = {{"authorization", "Bearer admin-secret"},
                         {"content-type", "application/json"}};
  const json spec = {{"name", "via-admin"},
                     {"provider", "openai"},
                     {"api_key", kSecret},
                     {"custom_host", upstream.baseUrl() + "/v1"}};
  auto created = httpRequest(portico.port(), "POST", "/admin/v1/keys", admin, spec.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find(kSecret), std::string::npos);
  const json made = json::parse(created.body);
  const std::string key = made["key"];
  const std::string id = made["id"];
  // The admin API reloads the gateway's keys at once.
  EXPECT_EQ(callWithKey(portico, key).status, 200);

  auto listed = httpRequest(portico.port(), "GET", "/admin/v1/keys", admin);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(kSecret), std::string::npos);
  EXPECT_EQ(listed.body.find(key), std::string::npos);
  auto removed = httpRequest(portico.port(), "DELETE", "/admin/v1/keys/" + id, admin);
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(callWithKey(portico, key).status, 401);
}

TEST_F(VirtualKeysEndToEnd, TheGatewayRefusesToStartWithoutTheRightMasterKey) {
  FakeUpstream upstream([](const RecordedRequest&) { return chatAnswer(1, 1); });
  createKey("sealed", upstream);
  for (const char* master : {"", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="}) {
    if (*master == '\0') {
      ::unsetenv("PORTICO_MASTER_KEY");
    } else {
      ::setenv("PORTICO_MASTER_KEY", master, 1);
    }
    const std::string command =
        std::string(kGatewayBinaryPath) + " --port 0 --data-dir " + dir_.string() + " 2>&1";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    std::string output;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
      output.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
    EXPECT_NE(output.find("master key"), std::string::npos) << output;
    EXPECT_EQ(output.find(kSecret), std::string::npos);
  }
}

}  // namespace
}  // namespace portico::testing
