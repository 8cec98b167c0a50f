#pragma once

#include <string>
#include <string_view>

// JSON text written without a tree, for answers and chunks built on the hot path: byte for byte
// what nlohmann's dump(-1, ' ', false, replace) writes for the same value, so a client cannot
// tell which way an answer was made.
namespace portico::json_text {

// Appends `text` as a JSON string: quotes, backslashes and control characters escaped (\b \t \n
// \f \r, else \u00xx), UTF-8 as it is; invalid UTF-8 gets nlohmann's U+FFFD replacements.
void appendString(std::string& out, std::string_view text);

}  // namespace portico::json_text
