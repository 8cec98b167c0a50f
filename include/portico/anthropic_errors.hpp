#pragma once

#include <string_view>

namespace portico {

// Anthropic's error type for an HTTP status, for every answer given in Anthropic's error shape
// (the native Messages paths and the translated one): 400 invalid_request_error, 401
// authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429
// rate_limit_error, 503 and 529 overloaded_error, 408 and other 5xx api_error, other 4xx
// invalid_request_error.
std::string_view anthropicErrorType(int status);

}  // namespace portico
