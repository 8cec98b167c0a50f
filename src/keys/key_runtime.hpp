#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "keys/shared_limits.hpp"
#include "portico/provider_registry.hpp"
#include "portico/server.hpp"

namespace portico::redis {
class Health;
}

namespace portico::keys {

// How the gateway runs virtual keys (flags and environment, see main.cpp).
struct KeySettings {
  std::filesystem::path data_dir = "data";  // holds portico.db
  std::string store;                        // "" or "sqlite": DIR/portico.db; or a postgres:// URL
  std::filesystem::path master_key_file;    // "" : PORTICO_MASTER_KEY only
  bool require_virtual_keys = false;        // --auth virtual-keys
  std::filesystem::path prices_file;        // "" : the built-in table
  std::string admin_token;                  // "" : the admin API is off
  // Limits and budgets counted in the Redis that gateways share (--redis); unset: per process.
  std::optional<SharedLimitSettings> shared_limits;
  redis::Health* redis_health = nullptr;  // counts the limit checks Redis could not answer
};

// Everything virtual keys need while the gateway runs: the store, the in-memory index and its
// keeper thread, the usage recorder, the request-path gate and the admin API. Built before the
// server starts (it throws, with a message for the operator, when the store cannot be opened
// or sealed secrets exist without their master key) and destroyed after it stops.
class KeyRuntime {
 public:
  KeyRuntime(const KeySettings& settings, const ProviderRegistry& registry);
  ~KeyRuntime();
  KeyRuntime(const KeyRuntime&) = delete;
  KeyRuntime& operator=(const KeyRuntime&) = delete;

  // Points the server at the gate and, with an admin token, the admin API.
  void attach(ServerOptions& options) const;
  // The admin API as a server handler (the gateway's listener or --admin-port's).
  std::function<AdminReply(const AdminCall&)> adminHandler() const;
  std::size_t keyCount() const;
  // Stops the keeper thread and writes the last usage.
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace portico::keys
