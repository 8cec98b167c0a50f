#pragma once

#include "net.hpp"
#include "portico/provider_adapter.hpp"
#include "proxy/worker_context.hpp"

namespace portico::proxy {

// The credential stage, run once per leaf before its attempts: credentials come from the
// request headers or the config (already in the target), from a virtual key the key store
// resolves, and from a token the provider needs fetched (the cache is checked before anything
// is signed). Authentication itself is applied last, by the provider call.

// The virtual key step, first, since a key names the provider: fills the target from the key
// it names (a null grant when it names none). Refuses a leaf without one when the gateway
// requires virtual keys (unless the leaf comes from a key's own config, `trusted`), and
// virtual keys when none are configured.
Expected<std::unique_ptr<KeyGrant>> resolveVirtualKey(const WorkerContext& worker,
                                                      Target& target,
                                                      bool trusted = false);

// The token step, once the provider is known.
Awaitable<Expected<bool>> resolveCredentials(WorkerContext& worker,
                                             const ProviderAdapter& adapter,
                                             Target& target,
                                             CancelToken* cancel);

}  // namespace portico::proxy
