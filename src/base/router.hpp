#pragma once

#include <string>
#include <string_view>

#include "portico/endpoint.hpp"

namespace portico {

enum class RouteKind { kRoot, kHealth, kReady, kMetrics, kConsole, kGateway, kAdmin, kNotFound };

struct Route {
  RouteKind kind = RouteKind::kNotFound;
  Endpoint endpoint = Endpoint::kPassthrough;
  std::string path;   // for kGateway: the path after "/v1" (or "/v1/proxy"); else the path
  std::string query;  // without '?'
};

// Pure: which handler serves (method, request-target).
Route routeRequest(std::string_view method, std::string_view target);

}  // namespace portico
