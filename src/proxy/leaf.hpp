#pragma once

#include "portico/config.hpp"
#include "proxy/attempt.hpp"
#include "routing/target_resolver.hpp"

namespace portico::proxy {

// One leaf of the routing plan: its target, the credential stage, the response cache, then the
// first try and its retries (`settings` are the leaf's, inherited down the tree). Reports
// attemptStarted/attemptEnded for every try and retrying between them.
Awaitable<Attempt> callLeaf(RequestState& state,
                            const ConfigNode& node,
                            const routing::Inherited& settings,
                            std::string option_index);

}  // namespace portico::proxy
