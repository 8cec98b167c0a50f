#pragma once

#include "portico/config.hpp"
#include "proxy/attempt.hpp"
#include "routing/target_resolver.hpp"

namespace portico::proxy {

// Walks the routing plan from `node`: a leaf is called (callLeaf); a fallback node tries its
// targets in order while they fail over; a loadbalance node picks one by weight; a conditional
// node picks by the request's metadata and body; a single node takes its first target. Each
// node's settings are inherited once, on the way down.
Awaitable<Attempt> walkPlan(RequestState& state,
                            const ConfigNode& node,
                            const routing::Inherited& parent,
                            std::string option_index);

}  // namespace portico::proxy
