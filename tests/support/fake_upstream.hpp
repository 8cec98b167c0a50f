#pragma once

// A scripted HTTP(S) server on 127.0.0.1:0 standing in for a provider. Each connection is
// served on its own thread; the handler sees every request and says how to answer, including
// streamed, slow, cut-off and refused answers for failure injection. No Beast in this header,
// so test files that include it compile quickly.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portico::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query
  Headers headers;     // lower-case names
  std::string body;
  // The value of header `name` (lower-case), or "" when absent.
  std::string header(const std::string& name) const;
  bool hasHeader(const std::string& name) const;
  std::string path() const;   // target without the query
  std::string query() const;  // after '?', or ""
};

struct FakeResponse {
  int status = 200;
  Headers headers;   // content-type defaults to application/json
  std::string body;  // sent with content-length unless `chunks` is set
  // When set, the body is sent chunked, one write per element, `chunk_delay` apart.
  std::vector<std::string> chunks;
  std::chrono::milliseconds chunk_delay{0};
  std::chrono::milliseconds delay_before_headers{0};
  // After the chunks, close the connection abruptly (no terminating chunk).
  bool cut_after_chunks = false;
  // Close the connection without answering at all.
  bool close_without_response = false;
  // After the chunks, stall this long without sending or closing.
  std::chrono::milliseconds stall_after_chunks{0};
  // Called (on the server's thread) before chunk i is written; a test can block here until
  // the client saw the earlier chunks, which proves the gateway does not buffer.
  std::function<void(std::size_t)> before_chunk;
  // Close the connection right after this answer although it did not say "connection: close"
  // (a keep-alive connection the upstream drops while it sits idle in the gateway's pool).
  bool close_after_response = false;

  static FakeResponse json(int status, std::string body);
  static FakeResponse sse(std::vector<std::string> events,
                          std::string content_type = "text/event-stream");
};

using Handler = std::function<FakeResponse(const RecordedRequest&)>;

// kTlsWrongName serves a certificate (from the test CA) for "wrong.example" only.
enum class TlsMode { kPlain, kTls, kTlsWrongName };

class FakeUpstream {
 public:
  explicit FakeUpstream(Handler handler, TlsMode tls = TlsMode::kPlain);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  unsigned short port() const;
  // "http://127.0.0.1:PORT" or "https://localhost:PORT".
  std::string baseUrl() const;
  std::vector<RecordedRequest> requests() const;
  std::optional<RecordedRequest> lastRequest() const;
  std::size_t requestCount() const;
  std::size_t connectionCount() const;
  // How many connections ended because the client closed them while a stream was being sent.
  std::size_t clientAbortCount() const;
  // Block until at least `n` requests arrived / `n` client aborts happened, or `timeout`
  // passes; return whether the count was reached. Tests wait on events, not on sleeps.
  bool waitForRequests(std::size_t n, std::chrono::milliseconds timeout) const;
  bool waitForClientAborts(std::size_t n, std::chrono::milliseconds timeout) const;
  // Sends each write at once (TCP_NODELAY) on the connections accepted from now on. Off by
  // default, so a write that follows an unacknowledged one may wait for the peer's delayed ACK
  // (up to 40 ms): too slow for a test that makes hundreds of exchanges.
  void setNoDelay(bool on);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Paths of the test CA and server certificate in tests/data/certs.
std::string testCaFile();

}  // namespace portico::testing
