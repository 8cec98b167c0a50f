#pragma once

#include <string>

#include "http/beast_http.hpp"
#include "portico/http_types.hpp"

namespace portico::edge {

// Beast's fields as our header list: names lower-cased, values as they came, order kept.
HeaderList toHeaderList(const http::fields& fields);

// Adds `headers` to `fields`. Beast writes values verbatim, so whatever reaches an answer passes
// the same check as upstream requests; a header that fails it is left out rather than split the
// answer.
void insertSafeHeaders(http::fields& fields, const HeaderList& headers);

}  // namespace portico::edge
