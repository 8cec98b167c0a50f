#include <gtest/gtest.h>

#include "routing/retry_policy.hpp"

namespace portico::routing {
namespace {

using std::chrono::milliseconds;

RetrySettings retries(int attempts, std::vector<int> statuses = {}, bool retry_after = false) {
  RetrySettings settings;
  settings.attempts = attempts;
  settings.on_status_codes = std::move(statuses);
  settings.use_retry_after_header = retry_after;
  return settings;
}

AttemptOutcome status(int code, const HeaderList* headers = nullptr) {
  AttemptOutcome outcome;
  outcome.status = code;
  outcome.headers = headers;
  return outcome;
}

TEST(RoutingRetryPolicy, BackoffDoublesWithEqualJitter) {
  EXPECT_EQ(backoffDelay(1, 0.0), milliseconds(500));
  EXPECT_EQ(backoffDelay(1, 0.999999), milliseconds(999));
  EXPECT_EQ(backoffDelay(2, 0.0), milliseconds(1000));
  EXPECT_EQ(backoffDelay(2, 0.5), milliseconds(1500));
  EXPECT_EQ(backoffDelay(3, 0.0), milliseconds(2000));
  EXPECT_EQ(backoffDelay(3, 1.0), milliseconds(4000));
  EXPECT_EQ(backoffDelay(5, 1.0), milliseconds(16000));
}

TEST(RoutingRetryPolicy, DefaultStatusesRetryUntilExhausted) {
  const auto settings = retries(2);
  for (int code : {429, 500, 502, 503, 504}) {
    auto first = decideRetry(settings, 0, status(code), milliseconds(0), 0.0);
    EXPECT_TRUE(first.retry) << code;
    EXPECT_EQ(first.delay, milliseconds(500));
    auto second = decideRetry(settings, 1, status(code), milliseconds(500), 0.0);
    EXPECT_TRUE(second.retry);
    EXPECT_EQ(second.delay, milliseconds(1000));
    auto last = decideRetry(settings, 2, status(code), milliseconds(1500), 0.0);
    EXPECT_FALSE(last.retry);
    EXPECT_EQ(last.reported_count, -1);
  }
}

TEST(RoutingRetryPolicy, SuccessReportsRetriesMade) {
  const auto settings = retries(3);
  EXPECT_EQ(decideRetry(settings, 0, status(200), milliseconds(0), 0.3).reported_count, 0);
  auto after_two = decideRetry(settings, 2, status(200), milliseconds(0), 0.3);
  EXPECT_FALSE(after_two.retry);
  EXPECT_EQ(after_two.reported_count, 2);
}

TEST(RoutingRetryPolicy, UnlistedStatusesAreReturnedAtOnce) {
  auto decision = decideRetry(retries(3), 0, status(400), milliseconds(0), 0.0);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.reported_count, 0);
  // 408 (a timed-out attempt) only when listed.
  EXPECT_FALSE(decideRetry(retries(3), 0, status(408), milliseconds(0), 0.0).retry);
  EXPECT_TRUE(decideRetry(retries(3, {408}), 0, status(408), milliseconds(0), 0.0).retry);
  // A custom list replaces the default one.
  EXPECT_FALSE(decideRetry(retries(3, {408}), 0, status(500), milliseconds(0), 0.0).retry);
}

TEST(RoutingRetryPolicy, NoRetryConfiguredMeansCountZero) {
  auto decision = decideRetry(retries(0), 0, status(500), milliseconds(0), 0.0);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.reported_count, 0);
}

TEST(RoutingRetryPolicy, NetworkErrorsRetryWhateverTheList) {
  AttemptOutcome outcome = status(502);
  outcome.network_error = true;
  EXPECT_TRUE(decideRetry(retries(1, {429}), 0, outcome, milliseconds(0), 0.0).retry);
  EXPECT_EQ(decideRetry(retries(1, {429}), 1, outcome, milliseconds(0), 0.0).reported_count, -1);
}

TEST(RoutingRetryPolicy, FinalOutcomesNeverRetry) {
  AttemptOutcome outcome = status(500);
  outcome.final = true;
  EXPECT_FALSE(decideRetry(retries(5), 0, outcome, milliseconds(0), 0.0).retry);
}

TEST(RoutingRetryPolicy, AttemptsAreCappedAtFive) {
  const auto settings = retries(50);
  EXPECT_TRUE(decideRetry(settings, 4, status(500), milliseconds(0), 0.0).retry);
  EXPECT_EQ(decideRetry(settings, 5, status(500), milliseconds(0), 0.0).reported_count, -1);
}

TEST(RoutingRetryPolicy, RetryAfterHeadersInOrder) {
  EXPECT_EQ(retryAfterFromHeaders({{"retry-after", "2"}}), milliseconds(2000));
  EXPECT_EQ(retryAfterFromHeaders({{"retry-after", "0.5"}}), milliseconds(500));
  EXPECT_EQ(retryAfterFromHeaders({{"retry-after-ms", "250"}, {"retry-after", "9"}}),
            milliseconds(250));
  EXPECT_EQ(retryAfterFromHeaders({{"x-ms-retry-after-ms", "40"}, {"retry-after", "9"}}),
            milliseconds(40));
  EXPECT_EQ(retryAfterFromHeaders({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}),
            std::nullopt);
  EXPECT_EQ(retryAfterFromHeaders({{"retry-after", "-3"}}), std::nullopt);
  EXPECT_EQ(retryAfterFromHeaders({{"retry-after", "0"}}), std::nullopt);
  EXPECT_EQ(retryAfterFromHeaders({}), std::nullopt);
}

TEST(RoutingRetryPolicy, RetryAfterReplacesBackoffOn429And503) {
  const HeaderList headers = {{"retry-after", "3"}};
  for (int code : {429, 503}) {
    auto decision =
        decideRetry(retries(2, {}, true), 0, status(code, &headers), milliseconds(0), 0.0);
    EXPECT_TRUE(decision.retry);
    EXPECT_EQ(decision.delay, milliseconds(3000));
  }
  // Not on other statuses, and not without the flag.
  EXPECT_EQ(decideRetry(retries(2, {}, true), 0, status(500, &headers), milliseconds(0), 0.0).delay,
            milliseconds(500));
  EXPECT_EQ(decideRetry(retries(2), 0, status(429, &headers), milliseconds(0), 0.0).delay,
            milliseconds(500));
}

TEST(RoutingRetryPolicy, RetryAfterPastTheBudgetAnswersAtOnce) {
  const HeaderList too_long = {{"retry-after", "120"}};
  auto decision =
      decideRetry(retries(3, {}, true), 0, status(429, &too_long), milliseconds(0), 0.0);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.reported_count, -1);

  const HeaderList exactly = {{"retry-after-ms", "60000"}};
  EXPECT_FALSE(
      decideRetry(retries(3, {}, true), 0, status(429, &exactly), milliseconds(0), 0.0).retry);

  // 40 s is fine alone, but not after 30 s already spent waiting.
  const HeaderList forty = {{"retry-after", "40"}};
  EXPECT_TRUE(
      decideRetry(retries(3, {}, true), 0, status(429, &forty), milliseconds(0), 0.0).retry);
  auto late = decideRetry(retries(3, {}, true), 1, status(429, &forty), milliseconds(30000), 0.0);
  EXPECT_FALSE(late.retry);
  EXPECT_EQ(late.reported_count, -1);
}

}  // namespace
}  // namespace portico::routing
