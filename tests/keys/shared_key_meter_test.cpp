#include "keys/shared_key_meter.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "support/redis_server.hpp"
#include "support/run_awaitable.hpp"

namespace portico::keys {
namespace {

using testing::RedisServer;
using testing::runAwaitable;

// The header's value, or "(none)". A copy: result::error() returns the error by value.
std::string headerValue(const GatewayError& error, const std::string& name) {
  for (const auto& [key, value] : error.headers) {
    if (key == name) {
      return value;
    }
  }
  return "(none)";
}

class SharedKeyMeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) {
      GTEST_SKIP() << "redis-server is not installed (.ci/setup installs it)";
    }
    server_ = std::make_unique<RedisServer>();
    client_ = makeClient(ioc_);
  }

  std::unique_ptr<redis::Client> makeClient(net::io_context& ioc) {
    std::string why;
    auto endpoint = redis::parseRedisUrl(server_->url(), why);
    EXPECT_TRUE(endpoint) << why;
    return std::make_unique<redis::Client>(ioc.get_executor(), *endpoint,
                                           std::chrono::milliseconds(300), health_);
  }

  static SharedKeyMeter::Call call(KeyMeter::Limits limits,
                                   std::int64_t tokens = 10,
                                   std::int64_t micro_usd = 0) {
    SharedKeyMeter::Call call;
    call.key_id = "vk_test";
    call.limits = limits;
    call.now = 1'780'000'000;
    call.tokens = tokens;
    call.micro_usd = micro_usd;
    return call;
  }

  Expected<SharedKeyMeter::Reservation> admit(SharedKeyMeter::Call c) {
    return runAwaitable(ioc_,
                        SharedKeyMeter::admit(*client_, std::move(c), settings_, health_.get()));
  }

  net::io_context ioc_;
  std::shared_ptr<redis::Health> health_ = std::make_shared<redis::Health>();
  SharedLimitSettings settings_;
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<redis::Client> client_;
};

TEST_F(SharedKeyMeterTest, RequestsPerMinuteRefuseWithOpenAiHeaders) {
  KeyMeter::Limits limits;
  limits.rpm = 3;
  for (int i = 0; i < 3; ++i) {
    auto admitted = admit(call(limits));
    ASSERT_TRUE(admitted) << admitted.error().body.dump();
    EXPECT_TRUE(admitted->held);
  }
  auto refused = admit(call(limits));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 429);
  EXPECT_EQ(refused.error().body["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(headerValue(refused.error(), "x-ratelimit-limit-requests"), "3");
  EXPECT_EQ(headerValue(refused.error(), "x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(headerValue(refused.error(), "x-ratelimit-limit-tokens"), "(none)");
  const std::string retry = headerValue(refused.error(), "retry-after");
  ASSERT_NE(retry, "(none)");
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 61);
}

TEST_F(SharedKeyMeterTest, TheWindowSlidesRatherThanResetting) {
  settings_.window = std::chrono::milliseconds(1200);  // 20 ms buckets
  KeyMeter::Limits limits;
  limits.rpm = 2;
  ASSERT_TRUE(admit(call(limits)));
  ASSERT_TRUE(admit(call(limits)));
  ASSERT_FALSE(admit(call(limits)));
  // Admitted again once the window has passed over the first two, and not before: every try
  // until then is refused.
  int refusals = 0;
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    admitted = static_cast<bool>(admit(call(limits)));
    refusals += admitted ? 0 : 1;
    if (!admitted) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_TRUE(admitted);
  EXPECT_GT(refusals, 0);
}

TEST_F(SharedKeyMeterTest, TokensPerMinuteCountWhatSettlingReports) {
  KeyMeter::Limits limits;
  limits.tpm = 100;
  auto first = admit(call(limits, 80));
  ASSERT_TRUE(first);
  EXPECT_FALSE(admit(call(limits, 30)));  // 80 + 30 > 100
  // The call used 20 tokens, not 80: room for 30 more.
  SharedKeyMeter::settle(*client_, *first, 20, 0);
  auto second = admit(call(limits, 30));
  ASSERT_TRUE(second) << second.error().body.dump();
  auto over = admit(call(limits, 60));
  ASSERT_FALSE(over);
  EXPECT_EQ(headerValue(over.error(), "x-ratelimit-remaining-tokens"), "50");
}

TEST_F(SharedKeyMeterTest, TheBudgetHoldsAcrossConnectionsAndStartsFromTheStoresSpend) {
  KeyMeter::Limits limits;
  limits.budget.usd = 1.0;
  limits.budget.period = BudgetPeriod::kDay;
  auto seeded = call(limits, 10, 300'000);
  seeded.seed_micro_usd = 500'000;  // the store says half is spent today
  ASSERT_TRUE(admit(seeded));       // 0.5 + 0.3
  // Another gateway's connection sees the same spend.
  net::io_context other_ioc;
  auto other = makeClient(other_ioc);
  auto refused = runAwaitable(
      other_ioc, SharedKeyMeter::admit(*other, call(limits, 10, 300'000), settings_, nullptr));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 402);
  EXPECT_EQ(refused.error().body["budget"]["limit"], "usd");
  EXPECT_EQ(refused.error().body["budget"]["period"], "daily");
  const auto day = KeyMeter::periodOf(BudgetPeriod::kDay, seeded.now);
  EXPECT_EQ(server_->command("HGET portico:{vk_test}:budget:day:" + std::to_string(day) + " usd"),
            "800000");
}

TEST_F(SharedKeyMeterTest, ConcurrentGatewaysTogetherStayWithinTheLimit) {
  KeyMeter::Limits limits;
  limits.rpm = 25;
  std::atomic<int> admitted{0};
  std::vector<std::thread> gateways;
  for (int g = 0; g < 3; ++g) {
    gateways.emplace_back([&] {
      net::io_context ioc;
      auto client = makeClient(ioc);
      for (int i = 0; i < 20; ++i) {
        auto result =
            runAwaitable(ioc, SharedKeyMeter::admit(*client, call(limits), settings_, nullptr));
        admitted += result ? 1 : 0;
      }
    });
  }
  for (auto& thread : gateways) {
    thread.join();
  }
  EXPECT_EQ(admitted.load(), 25);  // of 60 tried
}

TEST_F(SharedKeyMeterTest, AnUnreachableRedisFollowsTheFailureModePerKind) {
  server_->stop();
  KeyMeter::Limits rate_only;
  rate_only.rpm = 1;
  auto open = admit(call(rate_only));  // the default: rate limits fail open
  ASSERT_TRUE(open);
  EXPECT_FALSE(open->held);
  KeyMeter::Limits with_budget = rate_only;
  with_budget.budget.tokens = 1000;
  auto closed = admit(call(with_budget));  // the default: budgets fail closed
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().status, 503);
  EXPECT_EQ(closed.error().body["error"]["code"], "limits_unavailable");
  settings_.rate = FailureMode::kClosed;
  EXPECT_FALSE(admit(call(rate_only)));
  settings_.budget = FailureMode::kOpen;
  settings_.rate = FailureMode::kOpen;
  EXPECT_TRUE(admit(call(with_budget)));
  EXPECT_EQ(health_->failedOpen(), 2u);
  EXPECT_EQ(health_->failedClosed(), 2u);
}

TEST_F(SharedKeyMeterTest, AnAdmissionRedisMakesAfterTheDeadlineIsGivenBack) {
  KeyMeter::Limits limits;
  limits.budget.tokens = 100000;
  // Another connection keeps Redis busy past the 300 ms deadline: the call fails closed (a
  // budget), and the reservation Redis makes once it runs the script is returned at once.
  std::thread busy([this] { server_->command("DEBUG SLEEP 0.6"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto refused = admit(call(limits, 500));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 503);
  busy.join();
  std::string tokens;
  for (int i = 0; i < 40 && tokens != "0"; ++i) {
    testing::runFor(ioc_, std::chrono::milliseconds(50));
    tokens = server_->command("HGET portico:{vk_test}:budget:total:0 tokens");
  }
  EXPECT_EQ(tokens, "0");
}

TEST(SharedLimits, ParsesFailureModes) {
  std::string why;
  auto both = parseFailureModes("closed", {}, why);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->rate, FailureMode::kClosed);
  EXPECT_EQ(both->budget, FailureMode::kClosed);
  auto mixed = parseFailureModes("budget:open,rate:closed", {}, why);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->rate, FailureMode::kClosed);
  EXPECT_EQ(mixed->budget, FailureMode::kOpen);
  auto one = parseFailureModes("rate:closed", {}, why);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->budget, FailureMode::kClosed);  // the default stays
  for (const char* bad : {"half", "rate", "rate:maybe", "cache:open", "rate:open,"}) {
    EXPECT_FALSE(parseFailureModes(bad, {}, why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

}  // namespace
}  // namespace portico::keys
