#pragma once

#include <functional>
#include <string>

#include "portico/server.hpp"
#include "telemetry/recent_requests.hpp"

namespace portico::telemetry {

// What the console shows. Everything must outlive the handler and be safe to call from every
// worker at once.
struct ConsoleSources {
  std::function<std::string()> metrics;    // the Prometheus text (null: the page says it is off)
  const RecentRequests* recent = nullptr;  // null: the table stays empty
  std::string token;                       // the admin token; empty: no token is asked for
};

// ServerOptions::console:
//   GET /console                 the page (text/html), no data in it, so no token needed
//   GET /console/api/metrics     the Prometheus text            (token)
//   GET /console/api/recent      the last requests, ?limit=N    (token)
// HEAD as GET. "Authorization: Bearer <token>" is compared in constant time; a missing or
// wrong one is 401 on every /console/api/ path; an unknown path 404, another method 405.
std::function<AdminReply(const AdminCall&)> makeConsoleHandler(ConsoleSources sources);

}  // namespace portico::telemetry
