#include "http/request_reader.hpp"

#include "http/beast_http.hpp"
#include "http/request_parser.hpp"
#include "portico/error.hpp"
#include "portico/request_framing.hpp"

namespace portico::edge {
namespace {

constexpr std::size_t kInitialReadBytes = 4 * 1024;

// A framing error's answer; the connection closes after it.
Awaitable<void> refuse(TcpStream& stream,
                       ConnectionDeadline& deadline,
                       const GatewayError& error,
                       std::chrono::milliseconds timeout) {
  http::response<http::string_body> response{static_cast<http::status>(error.status), 11};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = error.body.dump();
  response.prepare_payload();
  deadline.expiresAfter(timeout);
  auto written = co_await http::async_write(stream, response, kUseTuple);
  (void)written;
}

bool isCleanClose(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
         ec == net::error::operation_aborted || ec == net::error::connection_reset;
}

}  // namespace

struct RequestReader::Buffer {
  beast::flat_buffer bytes;
};

RequestReader::RequestReader(TcpStream& stream, ConnectionDeadline& deadline, ReaderLimits limits)
    : stream_(stream), deadline_(deadline), limits_(limits), buffer_(std::make_unique<Buffer>()) {
  // Beast reads at most the buffer's free capacity (512 bytes when it is empty): room for a
  // typical request lets one read take its header and body.
  buffer_->bytes.reserve(kInitialReadBytes);
}

RequestReader::~RequestReader() = default;

Awaitable<bool> RequestReader::next(IncomingRequest& out, bool& busy) {
  RequestParser parser(out);
  parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser.body_limit(limits_.max_body_bytes);
  deadline_.expiresAfter(first_ ? limits_.request_read_timeout : limits_.keep_alive_timeout);
  first_ = false;
  auto [header_ec, header_bytes] =
      co_await http::async_read_header(stream_, buffer_->bytes, parser, kUseTuple);
  busy = true;
  beast::error_code ec = deadline_.reason(header_ec);
  if (!ec) {
    // Beast reads a Transfer-Encoding that is not exactly "chunked" as "no body", and the body's
    // bytes would then run as the next request: refuse it and close.
    if (auto problem = checkTransferEncoding(parser.joinedTransferEncoding())) {
      co_await refuse(stream_, deadline_, errors::failure(problem->status, problem->message),
                      limits_.request_read_timeout);
      co_return false;
    }
    // curl and others wait for "100 Continue" before sending a large body.
    if (beast::iequals(findHeader(out.headers, "expect").value_or(""), "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, out.version};
      auto continued = co_await http::async_write(stream_, go_on, kUseTuple);
      ec = deadline_.reason(std::get<0>(continued));
    }
  }
  if (!ec) {
    deadline_.expiresAfter(limits_.request_read_timeout);
    auto body_read = co_await http::async_read(stream_, buffer_->bytes, parser, kUseTuple);
    ec = deadline_.reason(std::get<0>(body_read));
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    co_await refuse(stream_, deadline_, errors::payloadTooLarge(), limits_.request_read_timeout);
    co_return false;
  }
  if (ec) {
    if (!isCleanClose(ec) && parser.got_some()) {
      co_await refuse(stream_, deadline_,
                      errors::failure(400, "Malformed HTTP request: " + ec.message()),
                      limits_.request_read_timeout);
    }
    co_return false;
  }
  // Nothing waits on this connection's reads while the request is served but the hang-up watch,
  // which must not end at a read deadline.
  deadline_.never();
  co_return true;
}

}  // namespace portico::edge
