#pragma once

#include <string_view>

namespace portico {

// Whether an Authorization header value is "Bearer <expected>" (scheme case-insensitive,
// spaces and tabs around the token ignored), compared in constant time in the token's content:
// the lengths without an early exit, the bytes always over the expected token's length. An
// empty `expected` matches nothing. For the admin API and the console.
bool bearerMatches(std::string_view authorization, std::string_view expected);

}  // namespace portico
