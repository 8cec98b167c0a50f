// The client-facing HTTP/1.1 reader as runSession drives it: its RequestParser, writing into the
// one IncomingRequest a connection reuses, with the server's limits (header 64 KiB as in
// ServerOptions; body 1 MiB instead of 32 MiB to keep runs fast), read_header then read through one
// flat_buffer per connection, from a stream that hands out the input in pieces (as a socket would),
// up to a few pipelined requests per input. The sync read functions share their parsing loop with
// the async ones the server uses. Once a header is complete, its Transfer-Encoding lines go through
// checkTransferEncoding, and a coding the check accepts must be one Beast frames as chunked:
// otherwise the gateway and Beast would disagree on where the body ends (request smuggling). Beast
// asserts, sanitizer reports and crashes are findings.
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "http/request_parser.hpp"
#include "portico/request_framing.hpp"

// Built with BOOST_ENABLE_ASSERT_HANDLER (tests/fuzz/CMakeLists.txt): every Boost assert lands
// here and aborts like assert() would, except one. Beast 1.81's parse_chunk_header asserts
// `n >= 5` when the final chunk "0\r\n" is followed by a lone "\r" in a later read, a split any
// client can send; the parser itself handles it (asking for more bytes), and Beast fixed the
// assert in boostorg/beast#2861 (Boost 1.86). It still aborts a Debug-built gateway, so it is
// reported, not fixed; ignoring it here lets this target look for everything else.
namespace boost {

void assertion_failed_msg(
    const char* expr, const char* msg, const char* function, const char* file, long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp")) {
    return;
  }
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expr,
               msg != nullptr ? ": " : ".", msg != nullptr ? msg : "");
  std::fflush(stderr);
  std::abort();
}

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
  assertion_failed_msg(expr, nullptr, function, file, line);
}

}  // namespace boost

namespace {

namespace http = boost::beast::http;

constexpr std::uint32_t kHeaderLimit = 64 * 1024;  // ServerOptions::max_header_bytes
constexpr std::uint64_t kBodyLimit = 1 << 20;
constexpr int kMaxRequests = 8;

// A SyncReadStream over the pieces: each read_some returns at most the rest of one piece (empty
// pieces are skipped: a socket never reports a 0-byte read), then end of file.
class PieceStream {
 public:
  explicit PieceStream(std::vector<std::string_view> pieces) : pieces_(std::move(pieces)) {}

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::beast::error_code& ec) {
    while (next_ < pieces_.size() && pieces_[next_].empty()) {
      ++next_;
    }
    if (next_ == pieces_.size()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    const std::size_t n = boost::asio::buffer_copy(
        buffers, boost::asio::const_buffer(pieces_[next_].data(), pieces_[next_].size()));
    pieces_[next_].remove_prefix(n);
    return n;
  }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::beast::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) {
      throw boost::system::system_error(ec);
    }
    return n;
  }

 private:
  std::vector<std::string_view> pieces_;
  std::size_t next_ = 0;
};

// What the session looks at once the header is in: the Transfer-Encoding check must agree with
// Beast's framing, and the reused request must hold this request's header lines only.
void checkHeader(const portico::edge::RequestParser& parser,
                 const portico::edge::IncomingRequest& request) {
  const auto te = parser.joinedTransferEncoding();
  const auto problem =
      portico::checkTransferEncoding(te ? std::optional<std::string_view>(*te) : std::nullopt);
  if (problem) {
    portico::fuzz::check(problem->status == 400 || problem->status == 501,
                         "checkTransferEncoding: a status other than 400/501");
  } else if (te) {
    portico::fuzz::check(parser.chunked(),
                         "Transfer-Encoding accepted by checkTransferEncoding but not chunked "
                         "for Beast",
                         *te);
  }
  for (const auto& [name, value] : request.headers) {
    for (char c : name) {
      portico::fuzz::check(c < 'A' || c > 'Z', "a header name kept an upper-case letter", name);
    }
    (void)value;
  }
  portico::fuzz::check(request.keep_alive == parser.keep_alive(), "keep-alive differs");
  (void)parser.content_length();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = portico::fuzz::asView(data, size);
  PieceStream stream(portico::fuzz::splitPieces(input, portico::fuzz::hashBytes(input)));
  boost::beast::flat_buffer buffer;        // one per connection, as in runSession
  portico::edge::IncomingRequest request;  // the same
  for (int i = 0; i < kMaxRequests; ++i) {
    portico::edge::RequestParser parser(request);
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    boost::beast::error_code ec;
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
      return 0;  // the session answers 400/413 or closes
    }
    checkHeader(parser, request);
    http::read(stream, buffer, parser, ec);
    if (ec) {
      return 0;
    }
    portico::fuzz::check(request.body.size() <= kBodyLimit, "a body past the limit");
    if (!parser.keep_alive()) {
      return 0;
    }
  }
  return 0;
}
