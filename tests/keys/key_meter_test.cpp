// keys::KeyMeter: requests and tokens per minute, budgets with reservations, under an
// injected clock and under threads.

#include "keys/key_meter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace portico::keys {
namespace {

constexpr std::int64_t kMinuteStart = 1'800'000'000 / 60 * 60;  // a minute boundary

std::string header(const GatewayError& error, std::string_view name) {
  for (const auto& [key, value] : error.headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

TEST(KeyMeter, RequestsPerMinuteRefuseTheNextRequestWithRateLimitHeaders) {
  KeyMeter meter({.rpm = 2});
  EXPECT_TRUE(meter.admit(kMinuteStart, 10, 0));
  EXPECT_TRUE(meter.admit(kMinuteStart + 1, 10, 0));
  auto refused = meter.admit(kMinuteStart + 20, 10, 0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 429);
  EXPECT_EQ(refused.error().body["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(header(refused.error(), "retry-after"), "40");
  EXPECT_EQ(header(refused.error(), "x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(header(refused.error(), "x-ratelimit-remaining-requests"), "0");
  // The next minute is a new window.
  EXPECT_TRUE(meter.admit(kMinuteStart + 60, 10, 0));
}

TEST(KeyMeter, TokensPerMinuteCountReservationsThenWhatWasUsed) {
  KeyMeter meter({.tpm = 1000});
  auto first = meter.admit(kMinuteStart, 600, 0);
  ASSERT_TRUE(first);
  auto refused = meter.admit(kMinuteStart, 600, 0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(header(refused.error(), "x-ratelimit-limit-tokens"), "1000");
  EXPECT_EQ(header(refused.error(), "x-ratelimit-remaining-tokens"), "400");
  // The first call used only 100: room for the second.
  meter.settle(*first, 100, 0);
  EXPECT_TRUE(meter.admit(kMinuteStart + 5, 600, 0));
}

TEST(KeyMeter, ARequestLargerThanTheLimitPassesOnAnEmptyWindow) {
  KeyMeter meter({.tpm = 100});
  EXPECT_TRUE(meter.admit(kMinuteStart, 5000, 0));
  EXPECT_FALSE(meter.admit(kMinuteStart, 1, 0));
}

TEST(KeyMeter, BudgetRefusesWith402AndNamesTheLimit) {
  Budget budget;
  budget.usd = 1.0;
  budget.period = BudgetPeriod::kDay;
  KeyMeter meter({.budget = budget});
  auto call = meter.admit(kMinuteStart, 10, 600'000);
  ASSERT_TRUE(call);
  auto refused = meter.admit(kMinuteStart, 10, 600'000);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 402);
  EXPECT_EQ(refused.error().body["budget"]["limit"], "usd");
  EXPECT_EQ(refused.error().body["budget"]["period"], "daily");
  EXPECT_EQ(refused.error().body["error"]["code"], "budget_exceeded");
  // Settled at what it cost, the first call leaves room; a spent budget refuses even free calls.
  meter.settle(*call, 10, 100'000);
  ASSERT_TRUE(meter.admit(kMinuteStart, 10, 800'000));
  EXPECT_EQ(meter.spentMicroUsd(), 900'000);
  meter.seedSpend(kMinuteStart, 1'000'000, 0);
  EXPECT_FALSE(meter.admit(kMinuteStart, 10, 0));
  // The next day starts afresh.
  EXPECT_TRUE(meter.admit(kMinuteStart + 86400, 10, 600'000));
}

TEST(KeyMeter, TokenBudgetsCountPromptAndCompletion) {
  Budget budget;
  budget.tokens = 1000;
  KeyMeter meter({.budget = budget});
  auto call = meter.admit(kMinuteStart, 900, 0);
  ASSERT_TRUE(call);
  EXPECT_FALSE(meter.admit(kMinuteStart, 200, 0));
  meter.release(*call);
  EXPECT_TRUE(meter.admit(kMinuteStart, 200, 0));
  EXPECT_EQ(meter.spentTokens(), 200);
}

TEST(KeyMeter, ConcurrentCallsCannotOvershootByMoreThanTheirReservations) {
  Budget budget;
  budget.usd = 0.01;  // 10'000 micro-dollars
  KeyMeter meter({.budget = budget});
  constexpr int kThreads = 8;
  constexpr int kCallsEach = 200;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsEach; ++i) {
        if (auto call = meter.admit(kMinuteStart, 1, 100)) {
          admitted.fetch_add(1);
          meter.settle(*call, 1, 100);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(admitted.load(), 100);  // exactly the budget: 100 calls of 100 micro-dollars
  EXPECT_EQ(meter.spentMicroUsd(), 10'000);
}

TEST(KeyMeter, MonthlyPeriodsFollowTheCalendar) {
  // 2027-01-31T23:59:59Z and 2027-02-01T00:00:00Z.
  EXPECT_NE(KeyMeter::periodOf(BudgetPeriod::kMonth, 1801439999),
            KeyMeter::periodOf(BudgetPeriod::kMonth, 1801440000));
  EXPECT_EQ(KeyMeter::periodOf(BudgetPeriod::kMonth, 1801440000),
            KeyMeter::periodOf(BudgetPeriod::kMonth, 1801440000 + 27 * 86400));
  EXPECT_EQ(KeyMeter::periodOf(BudgetPeriod::kTotal, 1801440000), 0);
}

}  // namespace
}  // namespace portico::keys
