#include "keys/virtual_key_gate.hpp"

#include <algorithm>

#include "keys/shared_key_meter.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

// '*' matches any run of characters, everything else itself.
bool globMatch(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

std::int64_t tokensOf(const Usage& usage) {
  return usage.prompt_tokens.value_or(0) + usage.completion_tokens.value_or(0);
}

// Cost in micro-dollars, bounded so that no estimate a client can make overflows a counter.
std::int64_t microUsd(double usd) {
  constexpr double kMaxUsd = 1e9;
  return static_cast<std::int64_t>(std::clamp(usd, 0.0, kMaxUsd) * 1e6 + 0.5);
}

// One admitted call: settles or gives back its reservation (in this process's meter, or in
// Redis when gateways share one), and records what it used.
class Ticket final : public proxy::KeyTicket {
 public:
  Ticket(std::shared_ptr<const LiveKey> key,
         std::optional<KeyMeter::Reservation> local,
         Usage estimate,
         std::int64_t estimate_micro_usd,
         std::int64_t at,
         const VirtualKeyGate::Parts& parts)
      : key_(std::move(key)),
        local_(local),
        estimate_(estimate),
        estimate_micro_usd_(estimate_micro_usd),
        at_(at),
        parts_(parts) {}

  ~Ticket() override {
    if (!settled_) {
      charge(0, 0);
      record(Usage{0, 0}, 0, model_);
    }
  }

  void settle(const std::optional<Usage>& usage, std::string_view model) override {
    if (settled_) {
      return;
    }
    settled_ = true;
    // No usage reported: the reservation stands as what was spent.
    const Usage used = usage.value_or(estimate_);
    const double cost =
        usage ? parts_.prices.cost(model, used) : static_cast<double>(estimate_micro_usd_) / 1e6;
    charge(tokensOf(used), microUsd(cost));
    record(used, cost, std::string(model));
  }

  Awaitable<std::optional<GatewayError>> reserveShared(
      std::shared_ptr<redis::Client> redis) override {
    if (parts_.shared == nullptr) {
      co_return std::nullopt;
    }
    const KeyRecord& record = key_->record;
    SharedKeyMeter::Call call{record.id,
                              KeyMeter::Limits{record.rpm, record.tpm, record.budget},
                              at_,
                              tokensOf(estimate_),
                              estimate_micro_usd_,
                              key_->meter->spentMicroUsdIn(at_),
                              key_->meter->spentTokensIn(at_)};
    auto admitted = co_await SharedKeyMeter::admit(*redis, std::move(call), *parts_.shared,
                                                   parts_.redis_health);
    if (!admitted) {
      settled_ = true;  // refused: nothing reserved, no call to record
      co_return admitted.error();
    }
    shared_ = std::move(*admitted);
    redis_ = redis;
    co_return std::nullopt;
  }

  void setModel(std::string model) { model_ = std::move(model); }

 private:
  void charge(std::int64_t tokens, std::int64_t micro_usd) {
    if (local_) {
      key_->meter->settle(*local_, tokens, micro_usd);
      return;
    }
    key_->meter->addSpent(at_, micro_usd, tokens);  // the seed should Redis lose its count
    if (auto redis = redis_.lock()) {
      SharedKeyMeter::settle(*redis, shared_, tokens, micro_usd);
    }
  }

  void record(const Usage& used, double cost, std::string model) {
    parts_.usage.record(
        UsageEvent{key_->record.id, std::move(model), at_, used.prompt_tokens.value_or(0),
                   used.completion_tokens.value_or(0), used.cached_tokens.value_or(0), cost});
  }

  std::shared_ptr<const LiveKey> key_;
  std::optional<KeyMeter::Reservation> local_;  // none: the counters are shared
  Usage estimate_;
  std::int64_t estimate_micro_usd_;
  std::int64_t at_;  // when the call was admitted: the day its usage counts for
  const VirtualKeyGate::Parts& parts_;
  std::string model_;
  SharedKeyMeter::Reservation shared_;
  std::weak_ptr<redis::Client> redis_;  // the worker's: gone at shutdown before late tickets
  bool settled_ = false;
};

class Grant final : public proxy::KeyGrant {
 public:
  Grant(std::shared_ptr<const LiveKey> key, const VirtualKeyGate::Parts& parts)
      : key_(std::move(key)), parts_(parts) {}

  Expected<std::unique_ptr<proxy::KeyTicket>> admit(std::string_view model,
                                                    const json& body,
                                                    std::size_t body_bytes) override {
    if (!modelAllowed(key_->record.models, model)) {
      GatewayError error =
          errors::failure(403, "Model " + std::string(model.empty() ? "(none)" : model) +
                                   " is not allowed for this virtual key");
      error.body["error"]["code"] = "model_not_allowed";
      return error;
    }
    const bool usd_budget = key_->record.budget.usd.has_value();
    if (usd_budget && !model.empty() && !parts_.prices.find(model)) {
      GatewayError error = errors::failure(
          403, "Model " + std::string(model) +
                   " has no price, so this virtual key's USD budget cannot be kept: add it to "
                   "the price table (--prices)");
      error.body["error"]["code"] = "model_not_priced";
      return error;
    }
    const Usage estimate = VirtualKeyGate::estimate(body, body_bytes);
    const std::int64_t micro_usd = microUsd(parts_.prices.cost(model, estimate));
    const std::int64_t now = parts_.index.now();  // after any token fetch: the clock moved on
    std::optional<KeyMeter::Reservation> local;
    if (parts_.shared == nullptr) {
      auto reservation = key_->meter->admit(now, tokensOf(estimate), micro_usd);
      if (!reservation) {
        return reservation.error();
      }
      local = *reservation;
    }
    auto ticket = std::make_unique<Ticket>(key_, local, estimate, micro_usd, now, parts_);
    ticket->setModel(std::string(model));
    return std::unique_ptr<proxy::KeyTicket>(std::move(ticket));
  }

  const json* config() const override {
    const json& config = key_->record.config;
    return config.is_object() && !config.empty() ? &config : nullptr;
  }

  std::string_view name() const override { return key_->record.name; }

 private:
  std::shared_ptr<const LiveKey> key_;
  const VirtualKeyGate::Parts& parts_;
};

GatewayError invalidKey(std::string_view why) {
  GatewayError error = errors::failure(401, std::string(why));
  error.body["error"]["code"] = "invalid_virtual_key";
  return error;
}

}  // namespace

bool modelAllowed(const std::vector<std::string>& patterns, std::string_view model) {
  if (patterns.empty()) {
    return true;
  }
  for (const std::string& pattern : patterns) {
    if (globMatch(pattern, model)) {
      return true;
    }
  }
  return false;
}

VirtualKeyGate::VirtualKeyGate(const KeyIndex& index,
                               const PriceTable& prices,
                               UsageRecorder& usage,
                               bool required,
                               std::optional<SharedLimitSettings> shared,
                               redis::Health* redis_health)
    : shared_(shared),
      parts_{index, prices, usage, shared_ ? &*shared_ : nullptr, redis_health},
      required_(required) {}

Usage VirtualKeyGate::estimate(const json& body, std::size_t body_bytes) {
  // The largest limit the body names: adapters read different ones first, and the upstream may
  // generate up to any of them. Bounded so that no client value overflows a counter.
  constexpr std::int64_t kMaxCompletion = std::int64_t{1} << 24;
  std::int64_t completion = 0;
  if (body.is_object()) {
    for (const char* name : {"max_tokens", "max_completion_tokens", "max_output_tokens"}) {
      auto it = body.find(name);
      if (it != body.end() && it->is_number_integer() && it->get<std::int64_t>() > 0) {
        completion = std::max(completion, std::min(it->get<std::int64_t>(), kMaxCompletion));
      }
    }
  }
  return Usage{static_cast<std::int64_t>(std::min<std::size_t>(body_bytes, 1u << 30) / 4) + 1,
               completion > 0 ? completion : kDefaultCompletionTokens};
}

Expected<std::unique_ptr<proxy::KeyGrant>> VirtualKeyGate::resolve(std::string_view virtual_key,
                                                                   Target& target) const {
  auto key = parts_.index.find(virtual_key);
  if (!key) {
    return invalidKey("Invalid virtual key");
  }
  const KeyRecord& record = key->record;
  const std::int64_t now = parts_.index.now();
  if (!record.enabled) {
    return invalidKey("This virtual key is disabled");
  }
  if (record.expires_at && *record.expires_at <= now) {
    return invalidKey("This virtual key has expired");
  }
  if (!target.custom_host.empty()) {
    // The stored credentials go only to the provider's own host or the key's custom host.
    return errors::failure(400,
                           "A custom host cannot be combined with a virtual key: the key's "
                           "credentials go only to its provider or the host stored with it");
  }
  target.provider = record.provider;
  target.custom_host = record.custom_host;
  target.api_key = key->secrets.value("api_key", "");
  // Provider settings come from the key only: the client's could otherwise add credentials of
  // its own or bill another organisation or project the stored key can reach.
  target.options = json::object();
  for (const auto& [name, value] : record.fields.items()) {
    target.options[name] = value;
  }
  for (const auto& [name, value] : key->secrets.items()) {
    if (name != "api_key") {
      target.options[name] = value;
    }
  }
  return std::unique_ptr<proxy::KeyGrant>(std::make_unique<Grant>(key, parts_));
}

}  // namespace portico::keys
