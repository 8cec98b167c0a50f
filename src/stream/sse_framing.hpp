#pragma once

#include <cstddef>
#include <string_view>

namespace portico::stream {

// The length of the longest prefix of `bytes` that ends at an SSE event boundary (right after
// the blank line that ends an event; LF, CRLF and CR line endings alike), 0 when there is none.
// `bytes` must start at a boundary. A relay that writes only such prefixes never leaves a
// client with half an event, so an error sent after a break is an event of its own.
std::size_t completeEventsLength(std::string_view bytes);

// True when the last event in `bytes` (complete events, as written to a client) is OpenAI's
// end-of-stream marker, `data: [DONE]`.
bool endsWithDoneEvent(std::string_view bytes);

}  // namespace portico::stream
