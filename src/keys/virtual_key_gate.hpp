#pragma once

#include <memory>

#include "keys/key_index.hpp"
#include "keys/price_table.hpp"
#include "keys/shared_limits.hpp"
#include "keys/usage_recorder.hpp"
#include "proxy/key_gate.hpp"

namespace portico::redis {
class Health;
}

namespace portico::keys {

// Virtual keys on the request path: resolves `pk-...` from the in-memory index, fills the
// target with the key's provider and credentials, and admits each call against the key's
// model allowlist, limits and budget; settled calls go to the usage recorder.
class VirtualKeyGate final : public proxy::VirtualKeyResolver {
 public:
  // `shared`: the gateways share Redis (--redis); each call's limits and budget are then
  // counted there (KeyTicket::reserveShared) instead of in this process's meters.
  VirtualKeyGate(const KeyIndex& index,
                 const PriceTable& prices,
                 UsageRecorder& usage,
                 bool required,
                 std::optional<SharedLimitSettings> shared = std::nullopt,
                 redis::Health* redis_health = nullptr);
  VirtualKeyGate(const VirtualKeyGate&) = delete;  // parts_ points into it
  VirtualKeyGate& operator=(const VirtualKeyGate&) = delete;

  Expected<std::unique_ptr<proxy::KeyGrant>> resolve(std::string_view virtual_key,
                                                     Target& target) const override;
  bool required() const override { return required_; }

  // What a call reserves before it is sent: the prompt guessed from the body's size (about four
  // bytes a token) plus max_tokens (or max_completion_tokens, else kDefaultCompletionTokens).
  static constexpr std::int64_t kDefaultCompletionTokens = 1024;
  static Usage estimate(const nlohmann::json& body, std::size_t body_bytes);

  // What grants and tickets use, for as long as the gate lives.
  struct Parts {
    const KeyIndex& index;
    const PriceTable& prices;
    UsageRecorder& usage;
    const SharedLimitSettings* shared;  // null: this process's meters
    redis::Health* redis_health;
  };

 private:
  std::optional<SharedLimitSettings> shared_;
  Parts parts_;
  bool required_;
};

// Whether `model` matches one of `patterns` (exact names, '*' for any run of characters);
// every model when there are none.
bool modelAllowed(const std::vector<std::string>& patterns, std::string_view model);

}  // namespace portico::keys
