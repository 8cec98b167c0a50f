#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::stream {

// One decoded application/vnd.amazon.eventstream message.
//
// Every header is kept, with its value rendered as text: strings (type 7) and byte arrays
// (type 6) verbatim, booleans as "true"/"false", integers and timestamps (milliseconds since the
// epoch) as decimal, UUIDs as lower-case 8-4-4-4-12 hex.
struct EventStreamMessage {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;

  // Value of the first header named `name` (exact match), or "" when absent.
  std::string header(std::string_view name) const;
};

// Incremental decoder for AWS event-stream framing (Bedrock converse-stream, etc.):
//   [total len u32][headers len u32][prelude crc u32][headers][payload][message crc u32]
// All integers are big-endian; the CRCs are CRC-32 (IEEE), the message CRC covering everything
// before it.
class AwsEventStreamParser {
 public:
  enum class Status { kOk, kError };

  static constexpr std::uint32_t kMinFrameSize = 16;
  static constexpr std::uint32_t kMaxFrameSize = 16u << 20;

  // Appends each complete message to `out`. On a CRC mismatch, an absurd length or malformed
  // headers, returns kError and stays in error (the stream cannot be resynchronised).
  Status feed(std::string_view bytes, std::vector<EventStreamMessage>& out);

  const std::string& errorMessage() const { return error_; }

  // Bytes received but not yet part of a complete message.
  std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  Status fail(std::string message);

  std::string buffer_;
  std::size_t offset_ = 0;  // start of the first unconsumed byte in buffer_
  std::string error_;
};

// Encodes one message whose headers are all strings (type 7). Header names longer than 255 bytes
// and values longer than 65535 bytes are truncated to fit the format. Used by tests and by fake
// Bedrock upstreams.
std::string encodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& string_headers,
    std::string_view payload);

}  // namespace portico::stream
