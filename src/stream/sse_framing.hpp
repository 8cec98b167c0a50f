#pragma once

#include <cstddef>
#include <string_view>

namespace portico::stream {

// Finds SSE event boundaries (right after the blank line that ends an event; LF, CRLF and CR
// line endings alike) in a buffer that grows at its end and is consumed from its start, looking
// at each byte once however the buffer is fed. A relay that writes only up to the boundary
// never leaves a client with half an event, so an error sent after a break is an event of its
// own.
class EventBoundaryScanner {
 public:
  // Scans what was appended to `buffer` since the last call. Returns the length of the longest
  // prefix that ends at a boundary (0 when none). `buffer` must start at a boundary.
  std::size_t scan(std::string_view buffer);
  // The first `n` bytes (at most the last boundary returned) were taken out of the buffer.
  void consumed(std::size_t n);

 private:
  std::size_t scanned_ = 0;
  std::size_t boundary_ = 0;
  bool line_start_ = true;
  bool after_cr_ = false;  // the last byte scanned was a CR, whose LF may follow
};

// The longest prefix of `bytes` that ends at an event boundary; `bytes` starts at one.
std::size_t completeEventsLength(std::string_view bytes);

// True when the last event in `bytes` (complete events, as written to a client) is OpenAI's
// end-of-stream marker, `data: [DONE]`.
bool endsWithDoneEvent(std::string_view bytes);

}  // namespace portico::stream
