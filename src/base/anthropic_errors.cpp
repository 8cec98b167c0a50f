#include "portico/anthropic_errors.hpp"

namespace portico {

std::string_view anthropicErrorType(int status) {
  // The types Anthropic documents for its HTTP errors.
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 408:
      return "api_error";  // a timeout, not a fault in the request
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 || status < 400 ? "api_error" : "invalid_request_error";
  }
}

}  // namespace portico
