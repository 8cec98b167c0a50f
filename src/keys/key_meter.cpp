#include "keys/key_meter.hpp"

#include <algorithm>
#include <ctime>
#include <limits>

namespace portico::keys {
namespace {

constexpr std::uint64_t kCountMask = 0xffffffffULL;

std::int64_t countIn(std::uint64_t word, std::int64_t minute) {
  return static_cast<std::int64_t>(word >> 32) == minute
             ? static_cast<std::int64_t>(word & kCountMask)
             : 0;
}

std::uint64_t pack(std::int64_t minute, std::int64_t count) {
  const auto clamped = std::clamp<std::int64_t>(count, 0, static_cast<std::int64_t>(kCountMask));
  return (static_cast<std::uint64_t>(minute) << 32) | static_cast<std::uint64_t>(clamped);
}

// Adds `amount` to this minute's count unless that passes `limit` (0: none). A window still
// empty takes any amount, so one request larger than the limit is not refused forever. Time
// never runs backwards here: a caller whose clock read an older minute (a worker a moment
// behind another) counts in the window's newer one, which `minute` is updated to.
bool tryTake(std::atomic<std::uint64_t>& window,
             std::int64_t& minute,
             std::int64_t amount,
             std::int64_t limit,
             std::int64_t& seen) {
  std::uint64_t current = window.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t use = std::max(static_cast<std::int64_t>(current >> 32), minute);
    seen = countIn(current, use);
    if (limit > 0 && seen > 0 && seen + amount > limit) {
      return false;
    }
    if (window.compare_exchange_weak(current, pack(use, seen + amount))) {
      minute = use;
      return true;
    }
  }
}

// Adds `delta` (negative: gives back) to the window when it is still `minute`.
void adjust(std::atomic<std::uint64_t>& window, std::int64_t minute, std::int64_t delta) {
  std::uint64_t current = window.load(std::memory_order_relaxed);
  while (static_cast<std::int64_t>(current >> 32) == minute &&
         !window.compare_exchange_weak(current, pack(minute, countIn(current, minute) + delta))) {
  }
}

// Adds `amount` to `spent` unless that passes `cap` (0: none); a spent cap refuses even a
// call estimated at nothing (a model without a price).
bool tryReserve(std::atomic<std::int64_t>& spent, std::int64_t amount, std::int64_t cap) {
  std::int64_t current = spent.load(std::memory_order_relaxed);
  for (;;) {
    if (cap > 0 && (current >= cap || current + amount > cap)) {
      return false;
    }
    if (spent.compare_exchange_weak(current, current + amount)) {
      return true;
    }
  }
}

std::int64_t secondsLeftInMinute(std::int64_t now) { return 60 - now % 60; }

}  // namespace

KeyMeter::KeyMeter(Limits limits) { setLimits(limits); }

void KeyMeter::setLimits(const Limits& limits) {
  rpm_ = limits.rpm;
  tpm_ = limits.tpm;
  budget_micro_usd_ = limits.budget.usd ? static_cast<std::int64_t>(*limits.budget.usd * 1e6) : 0;
  budget_token_cap_ = limits.budget.tokens.value_or(0);
  budget_period_ = static_cast<int>(limits.budget.period);
}

std::int64_t KeyMeter::periodOf(BudgetPeriod period, std::int64_t now) {
  switch (period) {
    case BudgetPeriod::kDay:
      return now / 86400;
    case BudgetPeriod::kMonth: {
      const std::time_t t = static_cast<std::time_t>(now);
      std::tm utc{};
      gmtime_r(&t, &utc);
      return (utc.tm_year + 1900) * 12 + utc.tm_mon;
    }
    case BudgetPeriod::kTotal:
      return 0;
  }
  return 0;
}

void KeyMeter::seedSpend(std::int64_t now, std::int64_t micro_usd, std::int64_t tokens) {
  period_ = periodOf(static_cast<BudgetPeriod>(budget_period_.load()), now);
  budget_usd_ = micro_usd;
  budget_tokens_ = tokens;
}

void KeyMeter::addSpent(std::int64_t now, std::int64_t micro_usd, std::int64_t tokens) {
  rollPeriod(periodOf(static_cast<BudgetPeriod>(budget_period_.load()), now));
  budget_usd_ += std::max<std::int64_t>(micro_usd, 0);
  budget_tokens_ += std::max<std::int64_t>(tokens, 0);
}

std::int64_t KeyMeter::spentMicroUsdIn(std::int64_t now) const {
  const auto period = periodOf(static_cast<BudgetPeriod>(budget_period_.load()), now);
  return period_.load() == period ? budget_usd_.load() : 0;
}

std::int64_t KeyMeter::spentTokensIn(std::int64_t now) const {
  const auto period = periodOf(static_cast<BudgetPeriod>(budget_period_.load()), now);
  return period_.load() == period ? budget_tokens_.load() : 0;
}

void KeyMeter::rollPeriod(std::int64_t period) {
  std::int64_t seen = period_.load();
  // Only forwards: a caller with an older clock reading must not reset the current period.
  if (seen < period && period_.compare_exchange_strong(seen, period)) {
    // A new day or month: what was spent belongs to the last one. Calls settling across the
    // change may land in either; the store keeps the exact per-day totals.
    budget_usd_ = 0;
    budget_tokens_ = 0;
  }
}

// What a refusal reports of the minute containing `now`.
RateWindowState KeyMeter::windowState(std::int64_t now) const {
  const std::int64_t minute = now / 60;
  return RateWindowState{rpm_.load(), countIn(requests_window_.load(), minute), tpm_.load(),
                         countIn(tokens_window_.load(), minute), secondsLeftInMinute(now)};
}

std::optional<GatewayError> KeyMeter::reserveBudget(std::int64_t now, Reservation& reservation) {
  const auto period = static_cast<BudgetPeriod>(budget_period_.load());
  rollPeriod(periodOf(period, now));
  reservation.period = period_.load();
  const std::int64_t usd_cap = budget_micro_usd_.load();
  const std::int64_t token_cap = budget_token_cap_.load();
  if (tryReserve(budget_usd_, reservation.micro_usd, usd_cap)) {
    if (tryReserve(budget_tokens_, reservation.tokens, token_cap)) {
      return std::nullopt;
    }
    budget_usd_ -= reservation.micro_usd;
  }
  Budget budget;
  budget.period = period;
  if (usd_cap > 0) {
    budget.usd = static_cast<double>(usd_cap) / 1e6;
  }
  if (token_cap > 0) {
    budget.tokens = token_cap;
  }
  const bool usd_spent = usd_cap > 0 && budget_usd_.load() + reservation.micro_usd > usd_cap;
  return budgetError(budget, usd_spent);
}

Expected<KeyMeter::Reservation> KeyMeter::admit(std::int64_t now,
                                                std::int64_t tokens,
                                                std::int64_t micro_usd) {
  Reservation reservation{now / 60, 0, std::max<std::int64_t>(tokens, 0),
                          std::max<std::int64_t>(micro_usd, 0)};
  std::int64_t before = 0;
  if (!tryTake(requests_window_, reservation.minute, 1, rpm_.load(), before)) {
    return rateLimitError("requests", windowState(now));
  }
  if (!tryTake(tokens_window_, reservation.minute, reservation.tokens, tpm_.load(), before)) {
    return rateLimitError("tokens", windowState(now));
  }
  if (auto refused = reserveBudget(now, reservation)) {
    adjust(tokens_window_, reservation.minute, -reservation.tokens);
    return *refused;
  }
  return reservation;
}

void KeyMeter::settle(const Reservation& reservation, std::int64_t tokens, std::int64_t micro_usd) {
  adjust(tokens_window_, reservation.minute, tokens - reservation.tokens);
  if (period_.load() == reservation.period) {
    budget_usd_ += micro_usd - reservation.micro_usd;
    budget_tokens_ += tokens - reservation.tokens;
  }
}

}  // namespace portico::keys
