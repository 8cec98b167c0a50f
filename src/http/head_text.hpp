#pragma once

#include <string>
#include <string_view>

#include "portico/http_types.hpp"

namespace portico::edge {

// What an answer's head says about framing and the connection.
struct HeadFraming {
  unsigned version = 11;  // the request's HTTP version: 10 or 11
  bool keep_alive = true;
  bool chunked = false;
  // The Content-Length to send when not chunked (no length for 1xx, 204 and 304).
  std::size_t content_length = 0;
  bool no_cache = false;  // Cache-Control: no-cache in place of any the headers carry
};

// Appends an answer's status line and header block, ending with the empty line, to `out`.
// Written here rather than by Beast's serializer so that head and body leave in one gathered
// write from one reused buffer. The framing fields (Content-Type, Content-Length,
// Transfer-Encoding, Connection) come from the arguments, never from `headers`; a header that
// fails the same check as upstream requests is left out rather than split the answer.
void appendAnswerHead(std::string& out,
                      int status,
                      std::string_view content_type,
                      const HeaderList& headers,
                      const HeadFraming& framing);

// Whether an answer with this status carries no body (1xx, 204, 304).
bool statusHasNoBody(int status);

}  // namespace portico::edge
