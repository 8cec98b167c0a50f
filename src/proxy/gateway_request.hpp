#pragma once

#include <string>

#include "portico/endpoint.hpp"
#include "portico/http_types.hpp"

namespace portico::proxy {

// A request for a /v1/* route, as read off the wire.
struct GatewayRequest {
  Endpoint endpoint = Endpoint::kPassthrough;
  std::string method;
  std::string path;    // after /v1
  std::string query;   // without '?'
  HeaderList headers;  // lower-case names
  std::string body;
};

}  // namespace portico::proxy
