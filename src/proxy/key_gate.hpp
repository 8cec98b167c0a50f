#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "net.hpp"
#include "portico/error.hpp"
#include "portico/target.hpp"
#include "portico/usage.hpp"

namespace portico::redis {
class Client;
}

namespace portico::proxy {

// The seam where virtual keys plug into the pipeline; src/keys/ implements it. Called on the
// request path: implementations read memory only (no store, no lock).

// One admitted call of a leaf under a virtual key, holding what its limits and budget
// reserved. settle() replaces the reservation by what the answer used; a ticket dropped
// unsettled (no answer came) gives the reservation back.
class KeyTicket {
 public:
  virtual ~KeyTicket() = default;
  // `usage`: what the provider reported for `model`; nullopt when it reported nothing (the
  // reservation then counts as spent, so an answer without usage cannot spend for free).
  // Only the first call counts.
  virtual void settle(const std::optional<Usage>& usage, std::string_view model) = 0;
  // With a Redis shared by several gateways (--redis): reserves the call in the counters they
  // share. The refusal when it may not go: 429, 402, or 503 when Redis does not answer and the
  // failure mode is closed. Awaited on the worker that owns `redis`, before the call is sent.
  virtual Awaitable<std::optional<GatewayError>> reserveShared(
      std::shared_ptr<redis::Client> redis) {
    (void)redis;
    co_return std::nullopt;
  }
};

// A virtual key resolved for one leaf of the plan.
class KeyGrant {
 public:
  virtual ~KeyGrant() = default;
  // Admits one call of `model`: the model allowlist (403), requests and tokens per minute (429
  // with retry-after and x-ratelimit-* headers), the budget (402). `body` gives the estimate
  // the tokens and the budget reserve (max_tokens, the prompt's size).
  virtual Expected<std::unique_ptr<KeyTicket>> admit(std::string_view model,
                                                     const nlohmann::json& body,
                                                     std::size_t body_bytes) = 0;
  // The key's default config (a Portkey config tree the operator stored with it), walked in
  // place of this leaf; null when it has none.
  virtual const nlohmann::json* config() const { return nullptr; }
  // The key's name, for metrics, logs and traces (never its secret).
  virtual std::string_view name() const { return {}; }
};

class VirtualKeyResolver {
 public:
  virtual ~VirtualKeyResolver() = default;
  // Fills the target's provider, credentials, settings and custom host from the key: 401 for
  // an unknown, disabled or expired key; 400 when the client set a custom host itself (the
  // stored credentials go only to the key's own host).
  virtual Expected<std::unique_ptr<KeyGrant>> resolve(std::string_view virtual_key,
                                                      Target& target) const = 0;
  // --auth virtual-keys: every leaf must name a virtual key, and raw provider keys are refused.
  virtual bool required() const = 0;
};

}  // namespace portico::proxy
