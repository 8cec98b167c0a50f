#include "portico/aws_eventstream_parser.hpp"

#include <algorithm>
#include <boost/crc.hpp>

namespace portico::stream {

namespace {

constexpr std::size_t kPreludeSize = 12;
constexpr std::size_t kTrailerSize = 4;

std::uint32_t crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

std::uint64_t readBigEndian(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  }
  return value;
}

void appendBigEndian(std::string& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = width; i-- > 0;) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
}

// Reinterprets the low `width` bytes of `raw` as a two's complement signed integer.
std::int64_t toSigned(std::uint64_t raw, std::size_t width) {
  if (width < 8) {
    const std::uint64_t sign = std::uint64_t{1} << (8 * width - 1);
    if (raw & sign) return static_cast<std::int64_t>(raw) - static_cast<std::int64_t>(sign << 1);
  }
  return static_cast<std::int64_t>(raw);
}

std::string formatUuid(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    const auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

// Parses the header block; returns false on any malformation.
bool parseHeaders(std::string_view block,
                  std::vector<std::pair<std::string, std::string>>& headers,
                  std::string& error) {
  std::size_t pos = 0;
  auto need = [&](std::size_t n) { return block.size() - pos >= n; };
  while (pos < block.size()) {
    const std::size_t name_len = static_cast<unsigned char>(block[pos++]);
    if (name_len == 0) {
      error = "event-stream header with an empty name";
      return false;
    }
    if (!need(name_len + 1)) {
      error = "event-stream header name runs past the header block";
      return false;
    }
    std::string name(block.substr(pos, name_len));
    pos += name_len;
    const int type = static_cast<unsigned char>(block[pos++]);
    std::string value;
    std::size_t width = 0;
    switch (type) {
      case 0:
        value = "true";
        break;
      case 1:
        value = "false";
        break;
      case 2:
        width = 1;
        break;
      case 3:
        width = 2;
        break;
      case 4:
        width = 4;
        break;
      case 5:
      case 8:  // timestamp: milliseconds since the epoch
        width = 8;
        break;
      case 6:
      case 7: {
        if (!need(2)) {
          error = "event-stream header value length runs past the header block";
          return false;
        }
        const std::size_t len = readBigEndian(block, pos, 2);
        pos += 2;
        if (!need(len)) {
          error = "event-stream header value runs past the header block";
          return false;
        }
        value.assign(block.substr(pos, len));
        pos += len;
        break;
      }
      case 9:
        if (!need(16)) {
          error = "event-stream uuid header runs past the header block";
          return false;
        }
        value = formatUuid(block.substr(pos, 16));
        pos += 16;
        break;
      default:
        error = "event-stream header of unknown type " + std::to_string(type);
        return false;
    }
    if (width != 0) {
      if (!need(width)) {
        error = "event-stream integer header runs past the header block";
        return false;
      }
      value = std::to_string(toSigned(readBigEndian(block, pos, width), width));
      pos += width;
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

}  // namespace

std::string EventStreamMessage::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

AwsEventStreamParser::Status AwsEventStreamParser::fail(std::string message) {
  error_ = std::move(message);
  buffer_.clear();
  offset_ = 0;
  return Status::kError;
}

AwsEventStreamParser::Status AwsEventStreamParser::feed(std::string_view bytes,
                                                        std::vector<EventStreamMessage>& out) {
  if (!error_.empty()) return Status::kError;
  buffer_.append(bytes);
  while (true) {
    const std::string_view pending = std::string_view(buffer_).substr(offset_);
    if (pending.size() < kPreludeSize) break;
    // The prelude is checked as soon as it is complete so that garbage is rejected early
    // instead of waiting for up to 16 MiB that will never come.
    const auto total = static_cast<std::uint32_t>(readBigEndian(pending, 0, 4));
    const auto headers_len = static_cast<std::uint32_t>(readBigEndian(pending, 4, 4));
    const auto prelude_crc = static_cast<std::uint32_t>(readBigEndian(pending, 8, 4));
    if (crc32(pending.substr(0, 8)) != prelude_crc) {
      return fail("event-stream prelude CRC mismatch");
    }
    if (total < kMinFrameSize || total > kMaxFrameSize) {
      return fail("event-stream frame length " + std::to_string(total) + " out of range");
    }
    if (headers_len > total - kMinFrameSize) {
      return fail("event-stream headers length " + std::to_string(headers_len) +
                  " exceeds the frame");
    }
    if (pending.size() < total) break;

    const std::string_view frame = pending.substr(0, total);
    const auto message_crc = static_cast<std::uint32_t>(readBigEndian(frame, total - 4, 4));
    if (crc32(frame.substr(0, total - kTrailerSize)) != message_crc) {
      return fail("event-stream message CRC mismatch");
    }
    EventStreamMessage message;
    std::string header_error;
    if (!parseHeaders(frame.substr(kPreludeSize, headers_len), message.headers, header_error)) {
      return fail(std::move(header_error));
    }
    message.payload.assign(
        frame.substr(kPreludeSize + headers_len, total - kMinFrameSize - headers_len));
    out.push_back(std::move(message));
    offset_ += total;
  }
  // Drop consumed bytes once per feed; what remains is at most one partial frame.
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return Status::kOk;
}

std::string encodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& string_headers,
    std::string_view payload) {
  std::string headers;
  for (const auto& [name, value] : string_headers) {
    const std::size_t name_len = std::min<std::size_t>(name.size(), 255);
    const std::size_t value_len = std::min<std::size_t>(value.size(), 65535);
    headers.push_back(static_cast<char>(name_len));
    headers.append(name, 0, name_len);
    headers.push_back(7);
    appendBigEndian(headers, value_len, 2);
    headers.append(value, 0, value_len);
  }
  const std::size_t total = kPreludeSize + headers.size() + payload.size() + kTrailerSize;
  std::string out;
  out.reserve(total);
  appendBigEndian(out, total, 4);
  appendBigEndian(out, headers.size(), 4);
  appendBigEndian(out, crc32(out), 4);
  out.append(headers);
  out.append(payload);
  appendBigEndian(out, crc32(out), 4);
  return out;
}

}  // namespace portico::stream
