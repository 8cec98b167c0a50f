#pragma once

#include <random>

#include "portico/provider_registry.hpp"
#include "portico/route_context.hpp"
#include "portico/server.hpp"
#include "proxy/key_gate.hpp"
#include "proxy/observer_list.hpp"
#include "proxy/token_cache.hpp"
#include "telemetry/trace_context.hpp"
#include "upstream/upstream_client.hpp"

namespace portico::routing {
class ResponseCache;
}
namespace portico::redis {
class Client;
}

namespace portico::proxy {

// Per-worker state the request path needs. Touched only from its worker's thread.
struct WorkerContext {
  const ServerOptions& options;
  const ProviderRegistry& registry;
  const RouteContextOptions& route_options;
  upstream::Client& client;
  // Seeded with 256 bits: trace and span ids come from it, and one 32-bit seed would give a
  // fleet of workers colliding id sequences.
  std::mt19937_64 random{telemetry::seededRandom()};
  TokenCache tokens;
  // The server's response cache, shared by all workers (thread-safe); null: caching off.
  routing::ResponseCache* cache = nullptr;
  // Bounds the non-streamed upstream answers all workers hold at once; null: no bound.
  upstream::BufferBudget* buffer_budget = nullptr;
  // This worker's connection to the Redis replicas share (--redis); null: none.
  std::shared_ptr<redis::Client> redis;
  // Null: virtual keys are not configured (they are refused with a 400).
  const VirtualKeyResolver* virtual_keys = nullptr;
  ObserverList observers;
};

}  // namespace portico::proxy
