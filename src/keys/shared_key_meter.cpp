#include "keys/shared_key_meter.hpp"

#include "keys/limit_errors.hpp"

namespace portico::keys {
namespace {

// KEYS: requests hash, tokens hash, budget hash (fields "usd" in micro-dollars and "tokens").
// ARGV: window ms, bucket ms, rpm, tpm, estimated tokens, USD cap (micro), token cap, estimated
// micro-USD, budget TTL s (0: none), seed micro-USD, seed tokens, budget on ("1").
// Answers {1, bucket, requests, tokens} when admitted; {2 or 3, retry ms, requests, tokens}
// when requests (2) or tokens (3) per minute are spent (tokens -1: not counted); {4, usd spent,
// tokens spent, 1 when the USD cap is what is spent}.
const redis::Script kAdmit(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, bucket = tonumber(ARGV[1]), tonumber(ARGV[2])
local current = math.floor(now / bucket)
local oldest = math.floor((now - window) / bucket)
local function total(key)
  local fields = redis.call('HGETALL', key)
  local sum, first = 0, nil
  for i = 1, #fields, 2 do
    local b = tonumber(fields[i])
    if b < oldest then
      redis.call('HDEL', key, fields[i])
    else
      local n = tonumber(fields[i + 1])
      sum = sum + n
      if n > 0 and (first == nil or b < first) then first = b end
    end
  end
  return sum, first
end
local function retry(first)
  if first == nil then return bucket end
  return math.max(1, (first + 1) * bucket + window - now)
end
local rpm, tpm, est = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local requests, tokens, first = 0, 0, nil
if rpm > 0 then
  requests, first = total(KEYS[1])
  if requests >= rpm then return {2, retry(first), requests, -1} end
end
if tpm > 0 then
  tokens, first = total(KEYS[2])
  if tokens > 0 and tokens + est > tpm then return {3, retry(first), requests, tokens} end
end
if ARGV[12] == '1' then
  if redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('HSET', KEYS[3], 'usd', ARGV[10], 'tokens', ARGV[11])
    if tonumber(ARGV[9]) > 0 then redis.call('EXPIRE', KEYS[3], ARGV[9]) end
  end
  local spent = redis.call('HMGET', KEYS[3], 'usd', 'tokens')
  local usd, used = tonumber(spent[1]) or 0, tonumber(spent[2]) or 0
  local usd_cap, token_cap, usd_est = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  if usd_cap > 0 and (usd >= usd_cap or usd + usd_est > usd_cap) then return {4, usd, used, 1} end
  if token_cap > 0 and (used >= token_cap or used + est > token_cap) then
    return {4, usd, used, 0}
  end
  redis.call('HINCRBY', KEYS[3], 'usd', usd_est)
  redis.call('HINCRBY', KEYS[3], 'tokens', est)
end
local keep = window + 2 * bucket
if rpm > 0 then
  redis.call('HINCRBY', KEYS[1], current, 1)
  redis.call('PEXPIRE', KEYS[1], keep)
end
if tpm > 0 then
  redis.call('HINCRBY', KEYS[2], current, est)
  redis.call('PEXPIRE', KEYS[2], keep)
end
return {1, current, requests + 1, tokens + est}
)lua");

// KEYS: tokens hash, budget hash. ARGV: the bucket reserved in, token delta, micro-USD delta,
// "1" when the key has a TPM limit, "1" when it has a budget. A bucket or budget that expired
// meanwhile is left alone.
const redis::Script kSettle(R"lua(
local delta = tonumber(ARGV[2])
if ARGV[4] == '1' and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], delta)
end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'usd', ARGV[3])
  redis.call('HINCRBY', KEYS[2], 'tokens', delta)
end
return 1
)lua");

std::int64_t budgetTtlSeconds(BudgetPeriod period) {
  switch (period) {
    case BudgetPeriod::kDay:
      return 2 * 86400;
    case BudgetPeriod::kMonth:
      return 62 * 86400;
    case BudgetPeriod::kTotal:
      break;
  }
  return 0;
}

std::int64_t microUsdCap(const Budget& budget) {
  return budget.usd ? static_cast<std::int64_t>(*budget.usd * 1e6) : 0;
}

// What the admit script answered, turned into a reservation or a refusal; nullopt when the
// answer is not one the script gives.
std::optional<Expected<SharedKeyMeter::Reservation>> readAdmission(
    const redis::Reply& reply,
    const SharedKeyMeter::Call& call,
    SharedKeyMeter::Reservation reservation) {
  if (reply.type != redis::Reply::Type::kArray || reply.elements.size() != 4) {
    return std::nullopt;
  }
  const auto& limits = call.limits;
  switch (reply.integerAt(0)) {
    case 1:
      reservation.held = true;
      reservation.bucket = reply.integerAt(1);
      return Expected<SharedKeyMeter::Reservation>(std::move(reservation));
    case 2:
    case 3: {
      const bool tokens_counted = reply.integerAt(3) >= 0;
      const RateWindowState state{limits.rpm, reply.integerAt(2), tokens_counted ? limits.tpm : 0,
                                  reply.integerAt(3),
                                  std::max<std::int64_t>(1, (reply.integerAt(1) + 999) / 1000)};
      return Expected<SharedKeyMeter::Reservation>(
          rateLimitError(reply.integerAt(0) == 2 ? "requests" : "tokens", state));
    }
    case 4:
      return Expected<SharedKeyMeter::Reservation>(
          budgetError(limits.budget, reply.integerAt(3) == 1));
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string SharedKeyMeter::keyPrefix(const std::string& key_id) {
  return "portico:{" + key_id + "}:";
}

Awaitable<Expected<SharedKeyMeter::Reservation>> SharedKeyMeter::admit(redis::Client& client,
                                                                       Call call,
                                                                       SharedLimitSettings settings,
                                                                       redis::Health* health) {
  const auto& limits = call.limits;
  const bool rate = limits.rpm > 0 || limits.tpm > 0;
  const bool budget = !limits.budget.empty();
  if (!rate && !budget) {
    co_return Reservation{};
  }
  const std::int64_t window = std::max<std::int64_t>(settings.window.count(), 60);
  const std::string prefix = keyPrefix(call.key_id);
  std::string window_suffix(1, ':');  // appended, not ":" + string: gcc 12 warns -Wrestrict on that
  window_suffix += std::to_string(window);
  Reservation reservation;
  reservation.tokens = std::max<std::int64_t>(call.tokens, 0);
  reservation.micro_usd = std::max<std::int64_t>(call.micro_usd, 0);
  reservation.tpm = limits.tpm > 0;
  reservation.budget = budget;
  reservation.tokens_key = prefix + "tpm" + window_suffix;
  reservation.budget_key = prefix + "budget:" + periodName(limits.budget.period) + ":" +
                           std::to_string(KeyMeter::periodOf(limits.budget.period, call.now));
  std::vector<std::string> keys{prefix + "rpm" + window_suffix, reservation.tokens_key,
                                reservation.budget_key};
  std::vector<std::string> args{std::to_string(window),
                                std::to_string(window / 60),
                                std::to_string(limits.rpm),
                                std::to_string(limits.tpm),
                                std::to_string(reservation.tokens),
                                std::to_string(microUsdCap(limits.budget)),
                                std::to_string(limits.budget.tokens.value_or(0)),
                                std::to_string(reservation.micro_usd),
                                std::to_string(budgetTtlSeconds(limits.budget.period)),
                                std::to_string(std::max<std::int64_t>(call.seed_micro_usd, 0)),
                                std::to_string(std::max<std::int64_t>(call.seed_tokens, 0)),
                                budget ? "1" : "0"};
  // An admission Redis makes after this call stopped waiting is given back at once: nobody
  // would settle it, and it would hold the budget for the rest of the period.
  redis::LateReply give_back = [late = reservation](redis::Client& redis,
                                                    const redis::Reply& answer) mutable {
    if (answer.type == redis::Reply::Type::kArray && answer.integerAt(0) == 1) {
      late.held = true;
      late.bucket = answer.integerAt(1);
      settle(redis, late, 0, 0);
    }
  };
  auto reply = co_await client.eval(kAdmit, std::move(keys), std::move(args), std::move(give_back));
  if (reply) {
    if (auto admitted = readAdmission(*reply, call, std::move(reservation))) {
      co_return std::move(*admitted);
    }
  }
  // No usable answer: the failure mode of each limit this key has decides.
  const bool refuse = (budget && settings.budget == FailureMode::kClosed) ||
                      (rate && settings.rate == FailureMode::kClosed);
  if (health != nullptr) {
    health->limitUnchecked(refuse);
  }
  if (refuse) {
    co_return limitsUnavailable(budget && settings.budget == FailureMode::kClosed ? "budget"
                                                                                  : "rate limit");
  }
  co_return Reservation{};
}

void SharedKeyMeter::settle(redis::Client& client,
                            const Reservation& reservation,
                            std::int64_t tokens,
                            std::int64_t micro_usd) {
  if (!reservation.held || (!reservation.tpm && !reservation.budget)) {
    return;
  }
  const std::int64_t token_delta = std::max<std::int64_t>(tokens, 0) - reservation.tokens;
  const std::int64_t usd_delta = std::max<std::int64_t>(micro_usd, 0) - reservation.micro_usd;
  if (token_delta == 0 && usd_delta == 0) {
    return;
  }
  client.sendEval(
      kSettle, {reservation.tokens_key, reservation.budget_key},
      {std::to_string(reservation.bucket), std::to_string(token_delta), std::to_string(usd_delta),
       reservation.tpm ? "1" : "0", reservation.budget ? "1" : "0"});
}

}  // namespace portico::keys
