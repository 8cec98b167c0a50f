#pragma once

// A small blocking HTTP/1.1 client for tests, over real loopback sockets. No Beast here.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/fake_upstream.hpp"

namespace portico::testing {

struct HttpResponse {
  int status = 0;
  Headers headers;   // lower-case names
  std::string body;  // de-chunked
  std::string header(const std::string& name) const;
  bool hasHeader(const std::string& name) const;
};

// Sends one request on a fresh connection and reads the whole answer. Throws on I/O errors or
// after `timeout`.
HttpResponse httpRequest(unsigned short port,
                         const std::string& method,
                         const std::string& target,
                         const Headers& headers = {},
                         const std::string& body = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Shorthand for a JSON POST.
HttpResponse postJson(unsigned short port,
                      const std::string& target,
                      const Headers& headers,
                      const std::string& body);

// A streamed answer read piece by piece, so tests can see chunks arrive and hang up mid-way.
class StreamingResponse {
 public:
  StreamingResponse(unsigned short port,
                    const std::string& target,
                    const Headers& headers,
                    const std::string& body);
  ~StreamingResponse();
  int status() const;
  std::string header(const std::string& name) const;
  // Reads body bytes until at least one more arrives; "" at the end of the body. Throws after
  // `timeout`.
  std::string readSome(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads to the end.
  std::string readAll(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Closes the connection abruptly.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sends raw bytes, calls `ready()` (which may block until the peer has seen them), then closes
// the connection abruptly.
void sendRawAndClose(unsigned short port,
                     const std::string& raw,
                     const std::function<bool()>& ready);

// Sends raw bytes and returns everything the server sends back until it closes (or 5 s pass).
std::string rawExchange(unsigned short port, const std::string& raw);

// Splits an SSE body into its "data:" payloads.
std::vector<std::string> sseData(const std::string& body);

}  // namespace portico::testing
