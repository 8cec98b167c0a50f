#include "http/beast_answer_writer.hpp"

#include <array>
#include <charconv>

#include "http/head_text.hpp"

namespace portico::edge {

BeastAnswerWriter::BeastAnswerWriter(TcpStream& stream,
                                     ConnectionDeadline& deadline,
                                     std::string& scratch,
                                     unsigned version,
                                     bool keep_alive,
                                     bool head_only,
                                     std::chrono::milliseconds write_timeout)
    : stream_(stream),
      deadline_(deadline),
      scratch_(scratch),
      version_(version),
      keep_alive_(keep_alive),
      head_only_(head_only),
      timeout_(write_timeout) {}

Awaitable<bool> BeastAnswerWriter::write(const auto& buffers) {
  deadline_.expiresAfter(timeout_);
  auto [ec, n] = co_await net::async_write(stream_, buffers, kUseTuple);
  deadline_.never();
  co_return !ec;
}

Awaitable<bool> BeastAnswerWriter::writeComplete(int status,
                                                 std::string_view content_type,
                                                 std::string body,
                                                 const HeaderList& headers) {
  if (statusHasNoBody(status)) {
    body.clear();
  }
  scratch_.clear();
  // HEAD: the length of the body a GET would get, and no body.
  appendAnswerHead(scratch_, status, content_type, headers,
                   HeadFraming{version_, keep_alive_, false, body.size()});
  if (head_only_) {
    body.clear();
  }
  const std::array<net::const_buffer, 2> buffers{net::buffer(scratch_), net::buffer(body)};
  co_return co_await write(buffers);
}

Awaitable<bool> BeastAnswerWriter::writeStreamHead(int status,
                                                   std::string_view content_type,
                                                   const HeaderList& headers) {
  scratch_.clear();
  HeadFraming framing{version_, keep_alive_, true};
  framing.no_cache = true;
  appendAnswerHead(scratch_, status, content_type, headers, framing);
  head_pending_ = true;
  co_return true;
}

Awaitable<bool> BeastAnswerWriter::writeFramed(std::string_view bytes, bool last) {
  if (!head_pending_) {
    scratch_.clear();
  }
  head_pending_ = false;
  if (head_only_) {
    bytes = {};  // HEAD: the head alone
    last = false;
  }
  std::string_view tail;
  if (!bytes.empty()) {
    char digits[20];
    auto end = std::to_chars(digits, digits + sizeof(digits), bytes.size(), 16).ptr;
    scratch_.append(digits, end).append("\r\n");
    tail = last ? std::string_view("\r\n0\r\n\r\n") : std::string_view("\r\n");
  } else if (last) {
    tail = "0\r\n\r\n";
  }
  if (scratch_.empty() && bytes.empty() && tail.empty()) {
    co_return true;  // nothing to say: an empty chunk would end the answer
  }
  const std::array<net::const_buffer, 3> buffers{net::buffer(scratch_), net::buffer(bytes),
                                                 net::buffer(tail)};
  co_return co_await write(buffers);
}

Awaitable<bool> BeastAnswerWriter::writeChunk(std::string_view bytes) {
  co_return co_await writeFramed(bytes, false);
}

Awaitable<bool> BeastAnswerWriter::writeLastChunk(std::string_view bytes) {
  co_return co_await writeFramed(bytes, true);
}

}  // namespace portico::edge
