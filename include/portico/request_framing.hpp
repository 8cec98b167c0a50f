#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico {

// Why a client request's framing is refused: the status to answer before closing the
// connection, and the message for the error body.
struct FramingProblem {
  int status = 400;
  std::string message;
};

// Judges a request's Transfer-Encoding (every field line joined with ", "; nullopt when there
// is none) as RFC 9112 section 6 asks: the only coding accepted is exactly `chunked`, once,
// last. A final coding other than chunked leaves the body length unknown (400); a coding before
// chunked is one Portico does not decode (501). Either way the connection must close, since
// the body's bytes cannot be told from the next request's.
std::optional<FramingProblem> checkTransferEncoding(std::optional<std::string_view> value);

}  // namespace portico
