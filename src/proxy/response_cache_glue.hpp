#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "proxy/attempt.hpp"
#include "routing/response_cache.hpp"

namespace portico::proxy {

// The cache entry a leaf may use: only for JSON endpoints with a JSON body, when the leaf's
// (inherited) `cache.mode` is "simple". The key ignores `stream` so a streamed request can be
// served from a stored complete answer.
struct CachePlan {
  std::string key;
  std::chrono::seconds max_age = routing::kDefaultCacheMaxAge;
  bool stream = false;
};

std::optional<CachePlan> planCache(const RequestState& state,
                                   const LeafRequest& leaf,
                                   const Target& target,
                                   const std::optional<CacheSettings>& settings);

// The stored answer for `plan`, as the client asked for it (a stream re-emitted from a stored
// completion), or nullopt. From the Redis replicas share when the worker has one (a Redis that
// does not answer in time is a miss), else from this process's cache.
Awaitable<std::optional<Attempt>> cachedAttempt(const RequestState& state, const CachePlan& plan);

// Stores a complete 2xx answer, in Redis (with the entry's TTL, not awaited) or in this
// process's cache; streams and errors are not stored.
void storeAttempt(const RequestState& state, const CachePlan& plan, const Attempt& attempt);

}  // namespace portico::proxy
