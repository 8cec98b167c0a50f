#pragma once

#include <string>

#include "proxy/attempt.hpp"

namespace portico::proxy {

// The stages of a /v1 request up to its answer: the content-type check, the route context from
// the x-portkey-* headers, the JSON body, the routing plan (plan_walk: leaves, credentials,
// cache, attempts, retries), then the x-portkey-* answer headers. Never throws. `trace_id`
// receives the request's trace id as soon as it is known (observers see it through `info`).
Awaitable<Attempt> runPipeline(WorkerContext& worker,
                               const GatewayRequest& request,
                               CancelToken* cancel,
                               RequestInfo& info,
                               std::string& trace_id);

}  // namespace portico::proxy
