#pragma once

#include <cstdint>
#include <string>

#include "keys/key_meter.hpp"
#include "keys/shared_limits.hpp"
#include "net.hpp"
#include "portico/error.hpp"
#include "redis/redis_client.hpp"

namespace portico::keys {

// A virtual key's limits counted in Redis, so that they hold for the key across every gateway
// instance, not per instance. One script checks and reserves requests per minute, tokens per
// minute and the budget atomically on the Redis server, against Redis's clock (the same for
// every instance): reserve-then-settle as in KeyMeter, one round trip to admit and one sent
// without waiting to settle.
//
// The windows slide: each is split into 60 buckets and a check sums every bucket that overlaps
// the last window, so no window-long span, wherever it starts, holds more than the limit (a
// fixed window would let twice the limit through across its boundary).
class SharedKeyMeter {
 public:
  struct Call {
    std::string key_id;
    KeyMeter::Limits limits;
    std::int64_t now = 0;  // unix seconds: which budget period the call counts in
    std::int64_t tokens = 0;
    std::int64_t micro_usd = 0;
    // What the store says the key spent in the period, for a period Redis has no count of yet
    // (the first call after a Redis restart, or of a new day).
    std::int64_t seed_micro_usd = 0;
    std::int64_t seed_tokens = 0;
  };

  // What one admitted call holds in Redis until it is settled.
  struct Reservation {
    bool held = false;    // false: admitted without Redis (fail-open), nothing to settle
    bool tpm = false;     // the key has a TPM limit: settling adjusts its bucket
    bool budget = false;  // the key has a budget: settling adjusts it
    std::string tokens_key;
    std::string budget_key;
    std::int64_t bucket = 0;
    std::int64_t tokens = 0;
    std::int64_t micro_usd = 0;
  };

  // The reservation, or the refusal: 429 (RPM/TPM), 402 (budget), 503 (Redis did not answer and
  // settings say fail-closed for a limit this key has).
  static Awaitable<Expected<Reservation>> admit(redis::Client& client,
                                                Call call,
                                                SharedLimitSettings settings,
                                                redis::Health* health);
  // Replaces the reservation by what the call used (0, 0: gives it back).
  static void settle(redis::Client& client,
                     const Reservation& reservation,
                     std::int64_t tokens,
                     std::int64_t micro_usd);

  // Redis key names: "portico:{<key id>}:...", one hash slot per key (Redis Cluster's scripts
  // need every key they touch in one slot).
  static std::string keyPrefix(const std::string& key_id);
};

}  // namespace portico::keys
