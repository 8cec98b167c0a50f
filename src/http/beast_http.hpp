#pragma once

// Beast's HTTP message types, for the two places that speak HTTP on a socket: the client edge
// (src/http/) and the upstream client (src/upstream/). Everything else sees HeaderList, strings
// and the answer-writer interface.
#include <boost/beast/http.hpp>

#include "net.hpp"

namespace portico {
namespace http = boost::beast::http;
}  // namespace portico
