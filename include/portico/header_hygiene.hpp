#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "portico/http_types.hpp"

namespace portico {

// RFC 9110 token characters only: what a field name may hold.
bool isValidHeaderName(std::string_view name);

// No control character but horizontal tab (so no CR, LF or NUL): what a field value may hold.
// Boost.Beast 1.81 writes values verbatim, so a CR LF in a value would end the header early and
// let the rest be read as further headers or a second request.
bool isValidHeaderValue(std::string_view value);

// Checks everything of `request` that becomes the request line or a header: method, target,
// host, port, and every header name and value. Returns a description naming the offending part
// (never its value, which may be a secret), or nullopt when the request is safe to write.
std::optional<std::string> findUnsafeRequestPart(const UpstreamRequest& request);

}  // namespace portico
