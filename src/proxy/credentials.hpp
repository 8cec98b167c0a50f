#pragma once

#include "net.hpp"
#include "portico/provider_adapter.hpp"
#include "proxy/worker_context.hpp"

namespace portico::proxy {

// The credential stage, run once per leaf before its attempts: credentials come from the
// request headers or the config (already in the target), from a virtual key the key store
// resolves, and from a token the provider needs fetched (the cache is checked before anything
// is signed). Authentication itself is applied last, by the provider call.
Awaitable<Expected<bool>> resolveCredentials(WorkerContext& worker,
                                             const ProviderAdapter& adapter,
                                             Target& target,
                                             CancelToken* cancel);

}  // namespace portico::proxy
