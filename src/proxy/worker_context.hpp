#pragma once

#include <random>

#include "portico/provider_registry.hpp"
#include "portico/route_context.hpp"
#include "portico/server.hpp"
#include "proxy/observer_list.hpp"
#include "proxy/token_cache.hpp"
#include "upstream/upstream_client.hpp"

namespace portico::routing {
class ResponseCache;
}

namespace portico::proxy {

// Resolves a virtual key (x-portkey-virtual-key, or virtual_key in a config) into the stored
// credentials it names, filling the target's api_key and settings. The key store implements it;
// without one, virtual keys are refused with a clear 400.
class VirtualKeyResolver {
 public:
  virtual ~VirtualKeyResolver() = default;
  virtual Expected<bool> resolve(std::string_view virtual_key, Target& target) const = 0;
};

// Per-worker state the request path needs. Touched only from its worker's thread.
struct WorkerContext {
  const ServerOptions& options;
  const ProviderRegistry& registry;
  const RouteContextOptions& route_options;
  upstream::Client& client;
  std::mt19937_64 random{std::random_device{}()};
  TokenCache tokens;
  // The server's response cache, shared by all workers (thread-safe); null: caching off.
  routing::ResponseCache* cache = nullptr;
  // Bounds the non-streamed upstream answers all workers hold at once; null: no bound.
  upstream::BufferBudget* buffer_budget = nullptr;
  // Null: virtual keys are not configured.
  const VirtualKeyResolver* virtual_keys = nullptr;
  ObserverList observers;
};

}  // namespace portico::proxy
