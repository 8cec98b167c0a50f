#include "stream/sse_framing.hpp"

namespace portico::stream {

std::size_t completeEventsLength(std::string_view bytes) {
  std::size_t boundary = 0;
  bool line_start = true;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\r' && c != '\n') {
      line_start = false;
      continue;
    }
    if (c == '\n' && i > 0 && bytes[i - 1] == '\r') {
      // The LF of a CRLF: it belongs to the line ending just seen.
      if (boundary == i) {
        boundary = i + 1;
      }
      continue;
    }
    if (line_start) {
      boundary = i + 1;  // an empty line: the event before it is complete
    }
    line_start = true;
  }
  return boundary;
}

}  // namespace portico::stream
