#pragma once

#include "portico/config.hpp"

namespace portico::routing {

// Whether a fallback node moves on to its next target after an answer with `status`: with
// `strategy.on_status_codes`, only for those statuses; without, for any non-2xx. (Gateway
// exceptions and a vanished client stop the chain before this is asked.)
bool fallsBack(const ConfigNode& node, int status);

}  // namespace portico::routing
