#pragma once

#include <string_view>

#include "portico/http_types.hpp"

namespace portico::edge {

// Whether an upstream answer header stays behind: it describes the upstream connection or body
// encoding (the gateway frames its own answer), or it would leak the provider's session state.
bool isDroppedAnswerHeader(std::string_view name);

// The upstream's answer headers worth passing on to the client.
HeaderList passOnAnswerHeaders(const HeaderList& upstream_headers);

}  // namespace portico::edge
