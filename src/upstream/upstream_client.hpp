#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "cancel_token.hpp"
#include "connection_deadline.hpp"
#include "http/beast_http.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/http_types.hpp"
#include "upstream/buffer_budget.hpp"
#include "upstream/response_parser.hpp"

namespace portico::upstream {

using Clock = std::chrono::steady_clock;
namespace ssl = net::ssl;

struct UpstreamSettings {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds read_timeout{600'000};  // 0: none
  std::chrono::milliseconds pool_idle_timeout{50'000};
  std::size_t pool_max_idle_per_host = 64;
  // Host name -> IP address answers used instead of DNS (see ServerOptions::static_hosts).
  std::vector<std::pair<std::string, std::string>> static_hosts;
};

// Why an upstream exchange failed.
enum class FailureKind {
  kConnect,      // DNS, refused, unreachable, TLS handshake or certificate failure
  kDeadline,     // the per-attempt request timeout expired
  kReadTimeout,  // the upstream went silent for longer than read_timeout
  kBroken,       // the connection broke or the HTTP answer was malformed
  kTooLarge,     // a buffered answer exceeded its limit
  kCancelled,    // the client went away
  kRefused,      // not sent: an unsafe header or target, or an address the policy refuses
};

struct Failure {
  FailureKind kind;
  std::string detail;  // human-readable, never contains request headers or bodies
};

using portico::CancelToken;

// One plain or TLS connection to (scheme, host, port).
class Connection {
 public:
  using TlsStream = beast::ssl_stream<TcpStream>;
  explicit Connection(TcpStream plain) : stream_(std::move(plain)), deadline_(tcp()) { counted(); }
  explicit Connection(std::unique_ptr<TlsStream> tls) : stream_(std::move(tls)), deadline_(tcp()) {
    counted();
  }
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  TcpStream& tcp();
  ConnectionDeadline& deadline() { return deadline_; }
  // Runs f on the concrete stream (TcpStream& or TlsStream&).
  template <class F>
  decltype(auto) visit(F&& f) {
    if (auto* plain = std::get_if<TcpStream>(&stream_)) {
      return f(*plain);
    }
    return f(*std::get<std::unique_ptr<TlsStream>>(stream_));
  }

  beast::flat_buffer buffer;  // bytes read past the previous answer (none for HTTP/1.1 replies)
  std::string request_head;   // the head of the request being sent, reused
  Clock::time_point idle_since{};
  bool reused = false;

 private:
  void counted();  // for portico_upstream_connections

  std::variant<TcpStream, std::unique_ptr<TlsStream>> stream_;
  ConnectionDeadline deadline_;  // after stream_: it holds a reference to it
};

// Idle keep-alive connections keyed by "scheme://host:port". One pool per worker thread: it is
// only touched from that worker's event loop, so it takes no lock.
class ConnectionPool {
 public:
  explicit ConnectionPool(const UpstreamSettings& settings) : settings_(settings) {}
  ~ConnectionPool() { clear(); }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  std::unique_ptr<Connection> take(const std::string& key);
  void give(const std::string& key, std::unique_ptr<Connection> connection);
  void clear();

 private:
  const UpstreamSettings& settings_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

// A response whose header has arrived; the body is read on demand. Returns its connection to
// the pool when the body was read to the end and the upstream allows keep-alive.
class Exchange {
 public:
  Exchange(std::unique_ptr<Connection> connection,
           std::string pool_key,
           ConnectionPool& pool,
           const UpstreamSettings& settings,
           std::optional<Clock::time_point> deadline,
           CancelToken* cancel);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  int status() const { return parser_.status(); }
  // The answer's headers as the pipeline sees them: lower-case names, in order.
  const HeaderList& headerList() const { return parser_.headers(); }
  std::string contentType() const { return std::string(parser_.header("content-type")); }
  std::string contentEncoding() const { return std::string(parser_.header("content-encoding")); }
  bool done() const { return parser_.is_done(); }

  // Appends the next piece of the body to `out` (at most one read's worth).
  Awaitable<std::optional<Failure>> readSome(std::string& out);
  // Reads the whole remaining body into `out`, failing past `limit` bytes or when `lease`
  // (if any) cannot grow to hold what was read.
  Awaitable<std::optional<Failure>> readAll(std::string& out,
                                            std::size_t limit,
                                            BufferLease* lease = nullptr);

  // Reads the response header. Used by Client::start.
  Awaitable<beast::error_code> readHeader();

 private:
  Failure failureFrom(beast::error_code ec) const;
  void armTimer();
  std::optional<Failure> parseBuffered();

  std::unique_ptr<Connection> connection_;
  std::string pool_key_;
  ConnectionPool& pool_;
  const UpstreamSettings& settings_;
  std::optional<Clock::time_point> deadline_;
  CancelToken* cancel_;
  ResponseParser parser_;
  bool broken_ = false;
};

using StartResult = std::variant<std::unique_ptr<Exchange>, Failure>;

// Writes `request`'s request line and header block into `out` (cleared first): Host, the
// request's own headers but the framing ones, a default User-Agent, Accept-Encoding: identity and
// the Content-Length of a POST or of any body. Its parts were checked by findUnsafeRequestPart.
void appendRequestHead(std::string& out, const UpstreamRequest& request);

// Sends requests over pooled connections. One per worker thread.
class Client {
 public:
  // `policy` judges the addresses of requests marked check_address (null: every address).
  Client(ssl::context& tls, UpstreamSettings settings, const CustomHostPolicy* policy);

  // Sends `request` and reads the response header. A pooled connection that turns out to be
  // closed before any byte of the answer arrived is replaced by a fresh one, once. Refuses
  // (kRefused) a request whose line or headers hold CR, LF, NUL or another control character,
  // and one marked check_address whose host resolves only to addresses the policy refuses.
  Awaitable<StartResult> start(const UpstreamRequest& request,
                               std::optional<Clock::time_point> deadline,
                               CancelToken* cancel);

  ConnectionPool& pool() { return pool_; }
  const UpstreamSettings& settings() const { return settings_; }

 private:
  // The addresses to try for `request`: static_hosts or DNS, less what the policy refuses.
  Awaitable<std::variant<std::vector<tcp::endpoint>, Failure>> resolve(
      const UpstreamRequest& request);
  Awaitable<std::variant<std::unique_ptr<Connection>, Failure>> connect(
      const UpstreamRequest& request,
      std::optional<Clock::time_point> deadline,
      CancelToken* cancel);
  Awaitable<StartResult> attempt(const UpstreamRequest& request,
                                 std::unique_ptr<Connection> connection,
                                 const std::string& key,
                                 std::optional<Clock::time_point> deadline,
                                 CancelToken* cancel);

  ssl::context& tls_;
  UpstreamSettings settings_;
  const CustomHostPolicy* policy_;
  ConnectionPool pool_;
};

// Builds the process-wide TLS client context: system CA store, optional extra CA file, peer
// verification on. Throws std::runtime_error when ca_file cannot be loaded.
std::unique_ptr<ssl::context> makeTlsContext(const std::string& ca_file);

}  // namespace portico::upstream
