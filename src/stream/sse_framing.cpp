#include "stream/sse_framing.hpp"

namespace portico::stream {

std::size_t EventBoundaryScanner::scan(std::string_view buffer) {
  for (; scanned_ < buffer.size(); ++scanned_) {
    const char c = buffer[scanned_];
    const bool lf_of_crlf = c == '\n' && after_cr_;
    after_cr_ = c == '\r';
    if (c != '\r' && c != '\n') {
      line_start_ = false;
      continue;
    }
    if (lf_of_crlf) {
      // The LF of a CRLF belongs to the line ending just seen.
      if (boundary_ == scanned_) {
        boundary_ = scanned_ + 1;
      }
      continue;
    }
    if (line_start_) {
      boundary_ = scanned_ + 1;  // an empty line: the event before it is complete
    }
    line_start_ = true;
  }
  return boundary_;
}

void EventBoundaryScanner::consumed(std::size_t n) {
  scanned_ -= n;
  boundary_ -= n;
}

std::size_t completeEventsLength(std::string_view bytes) {
  return EventBoundaryScanner{}.scan(bytes);
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
