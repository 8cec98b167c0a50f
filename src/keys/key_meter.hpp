#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "keys/limit_errors.hpp"
#include "keys/virtual_key.hpp"
#include "portico/error.hpp"

namespace portico::keys {

// The counters of one virtual key, shared by every worker and kept across reloads of the key.
// Lock-free: each counter is one atomic word updated by compare-and-swap, so N concurrent
// requests see each other's reservations and cannot together pass a limit by more than what
// their answers used beyond their estimates.
//
// Requests and tokens per minute use fixed one-minute windows (the word packs the minute with
// the count). A budget counts micro-dollars and tokens in its period (UTC day, month, or all
// time); at a period change the first caller resets it.
class KeyMeter {
 public:
  struct Limits {
    std::int64_t rpm = 0;  // 0: unlimited
    std::int64_t tpm = 0;
    Budget budget;
  };

  // What one admitted call holds until it is settled or released.
  struct Reservation {
    std::int64_t minute = 0;
    std::int64_t period = 0;
    std::int64_t tokens = 0;
    std::int64_t micro_usd = 0;
  };

  explicit KeyMeter(Limits limits);

  // The key was edited: new limits apply to the next admission; counts stay.
  void setLimits(const Limits& limits);
  // What the store says the key spent in the period containing `now` (at start-up, and for
  // a key first seen), so a restart does not hand out a fresh budget.
  void seedSpend(std::int64_t now, std::int64_t micro_usd, std::int64_t tokens);

  // One request, reserving an estimate; `now` in unix seconds. Refusals: 429 (requests or
  // tokens per minute, with retry-after and x-ratelimit-* headers) or 402 (budget spent).
  Expected<Reservation> admit(std::int64_t now, std::int64_t tokens, std::int64_t micro_usd);
  // Replaces the reservation by what the call used.
  void settle(const Reservation& reservation, std::int64_t tokens, std::int64_t micro_usd);
  // Gives the reservation back (the call got no answer); the request still counts.
  void release(const Reservation& reservation) { settle(reservation, 0, 0); }

  // The budget's period containing `now`: days or months since the epoch, 0 for a total.
  static std::int64_t periodOf(BudgetPeriod period, std::int64_t now);
  // With shared counters (Redis) this meter admits nothing; it keeps what the store said the
  // key spent plus what this process's calls spent since, as the seed for a period Redis has
  // no count of. Both are for the period containing `now` (0 for a period it has not seen).
  void addSpent(std::int64_t now, std::int64_t micro_usd, std::int64_t tokens);
  std::int64_t spentMicroUsdIn(std::int64_t now) const;
  std::int64_t spentTokensIn(std::int64_t now) const;
  // Spent in the current budget period (for tests and the admin API).
  std::int64_t spentMicroUsd() const { return budget_usd_.load(); }
  std::int64_t spentTokens() const { return budget_tokens_.load(); }

 private:
  void rollPeriod(std::int64_t period);
  RateWindowState windowState(std::int64_t now) const;
  std::optional<GatewayError> reserveBudget(std::int64_t now, Reservation& reservation);

  std::atomic<std::int64_t> rpm_{0};
  std::atomic<std::int64_t> tpm_{0};
  std::atomic<std::int64_t> budget_micro_usd_{0};  // 0: none
  std::atomic<std::int64_t> budget_token_cap_{0};  // 0: none
  std::atomic<int> budget_period_{static_cast<int>(BudgetPeriod::kTotal)};

  std::atomic<std::uint64_t> requests_window_{0};  // minute << 32 | count
  std::atomic<std::uint64_t> tokens_window_{0};    // minute << 32 | tokens (capped at 2^32-1)
  std::atomic<std::int64_t> period_{-1};
  std::atomic<std::int64_t> budget_usd_{0};     // micro-dollars spent or reserved
  std::atomic<std::int64_t> budget_tokens_{0};  // tokens spent or reserved
};

}  // namespace portico::keys
