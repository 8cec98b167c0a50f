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

bool endsWithDoneEvent(std::string_view bytes) {
  while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) {
    bytes.remove_suffix(1);
  }
  constexpr std::string_view kDone = "[DONE]";
  if (!bytes.ends_with(kDone)) {
    return false;
  }
  bytes.remove_suffix(kDone.size());
  while (!bytes.empty() && bytes.back() == ' ') {
    bytes.remove_suffix(1);
  }
  if (!bytes.ends_with("data:")) {
    return false;
  }
  bytes.remove_suffix(5);
  return bytes.empty() || bytes.back() == '\n' || bytes.back() == '\r';
}

}  // namespace portico::stream
