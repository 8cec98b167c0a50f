#pragma once

#include "telemetry/exposition.hpp"

namespace portico::telemetry {

// The standard process_* metrics (Prometheus' client libraries' names), from /proc/self:
// resident and virtual memory, CPU seconds, open descriptors, start time.
void appendProcessMetrics(Exposition& out);

}  // namespace portico::telemetry
