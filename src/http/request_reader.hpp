#pragma once

#include <chrono>
#include <string>

#include "connection_deadline.hpp"
#include "net.hpp"
#include "portico/http_types.hpp"

namespace portico::edge {

// One request as read off a client connection (the connection reuses it for the next).
struct IncomingRequest {
  std::string method;
  std::string target;  // the request-target as sent
  unsigned version = 11;
  bool keep_alive = true;
  bool head = false;  // a HEAD request: answer without a body
  HeaderList headers;
  std::string body;
};

struct ReaderLimits {
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 32 * 1024 * 1024;
  std::chrono::milliseconds request_read_timeout{30'000};
  std::chrono::milliseconds keep_alive_timeout{75'000};
};

// Reads requests from one client connection: the header (within the keep-alive timeout after
// the first request), the Transfer-Encoding check, "100 Continue", the body. Answers framing
// problems itself (400, 413, 501) and then reports the connection closed.
class RequestReader {
 public:
  RequestReader(TcpStream& stream, ConnectionDeadline& deadline, ReaderLimits limits);
  ~RequestReader();

  // The next request, or false when the connection is done (closed, timed out, or answered with
  // an error). `busy` is set once a request header has arrived. `out` is the connection's one
  // request, overwritten in place: its strings keep their capacity for the next.
  Awaitable<bool> next(IncomingRequest& out, bool& busy);

 private:
  struct Buffer;
  TcpStream& stream_;
  ConnectionDeadline& deadline_;
  ReaderLimits limits_;
  std::unique_ptr<Buffer> buffer_;
  bool first_ = true;
};

}  // namespace portico::edge
