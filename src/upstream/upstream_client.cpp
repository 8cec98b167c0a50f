#include "upstream/upstream_client.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <charconv>
#include <stdexcept>

#include "portico/header_hygiene.hpp"
#include "telemetry/connection_counts.hpp"

namespace portico::upstream {
namespace {

constexpr std::size_t kReadChunkBytes = 16 * 1024;
// What a connection's read buffer starts with: a typical answer, or a 20-event stream sent at
// once, in one read. Larger answers grow it.
constexpr std::size_t kInitialReadBytes = 8 * 1024;

bool isIpLiteral(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Errors after which a reused keep-alive connection was simply stale.
bool isStaleConnectionError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::ssl::error::stream_truncated;
}

// Expiry for one operation: the read timeout, capped by the attempt's deadline (none: never).
std::optional<Clock::time_point> expiryFor(std::chrono::milliseconds op_timeout,
                                           std::optional<Clock::time_point> deadline) {
  std::optional<Clock::time_point> at;
  if (op_timeout.count() > 0) {
    at = Clock::now() + op_timeout;
  }
  if (deadline && (!at || *deadline < *at)) {
    at = deadline;
  }
  return at;
}

// For connecting and the TLS handshake, on Beast's own timer.
void arm(TcpStream& tcp,
         std::chrono::milliseconds op_timeout,
         std::optional<Clock::time_point> deadline) {
  if (auto at = expiryFor(op_timeout, deadline)) {
    tcp.expires_at(*at);
  } else {
    tcp.expires_never();
  }
}

// For an established connection, on its one deadline timer.
void arm(ConnectionDeadline& timer,
         std::chrono::milliseconds op_timeout,
         std::optional<Clock::time_point> deadline) {
  if (auto at = expiryFor(op_timeout, deadline)) {
    timer.expiresAt(*at);
  } else {
    timer.never();
  }
}

Failure classify(const beast::error_code& ec,
                 std::optional<Clock::time_point> deadline,
                 const CancelToken* cancel,
                 FailureKind otherwise) {
  if (cancel != nullptr && cancel->cancelled) {
    return {FailureKind::kCancelled, "client disconnected"};
  }
  if (ec == beast::error::timeout) {
    if (deadline && Clock::now() + std::chrono::milliseconds(5) >= *deadline) {
      return {FailureKind::kDeadline, "request timeout"};
    }
    return {FailureKind::kReadTimeout, "upstream timed out"};
  }
  if (ec == http::error::body_limit) {
    return {FailureKind::kTooLarge, "upstream answer too large"};
  }
  return {otherwise, ec.message()};
}

bool isHeaderTheClientSets(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kOurs = {
      "host", "content-length", "transfer-encoding", "accept-encoding", "connection", "keep-alive"};
  return std::any_of(kOurs.begin(), kOurs.end(),
                     [&](std::string_view ours) { return beast::iequals(name, ours); });
}

}  // namespace

void appendRequestHead(std::string& out, const UpstreamRequest& request) {
  out.clear();
  out.append(request.method).append(" ").append(request.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(hostHeader(request)).append("\r\n");
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (isHeaderTheClientSets(name)) {
      continue;
    }
    has_user_agent = has_user_agent || beast::iequals(name, "user-agent");
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_user_agent) {
    out.append("User-Agent: portico/0.1\r\n");
  }
  // Answers may need translating, so ask for them uncompressed.
  out.append("Accept-Encoding: identity\r\n");
  if (!request.body.empty() || beast::iequals(request.method, "POST")) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof(digits), request.body.size()).ptr;
    out.append("Content-Length: ").append(digits, end).append("\r\n");
  }
  out.append("\r\n");
}

void Connection::counted() {
  // Beast reads at most the buffer's free capacity (512 bytes when it is empty): room for a
  // whole typical answer lets one read take what the upstream sent at once.
  buffer.reserve(kInitialReadBytes);
  auto& counts = telemetry::connectionCounts();
  telemetry::countUp(counts.upstream_open);
  telemetry::countUp(counts.upstream_created);
}

Connection::~Connection() { telemetry::countUp(telemetry::connectionCounts().upstream_open, -1); }

void ConnectionPool::clear() {
  std::int64_t idle = 0;
  for (const auto& [key, list] : idle_) {
    idle += static_cast<std::int64_t>(list.size());
  }
  telemetry::countUp(telemetry::connectionCounts().upstream_idle, -idle);
  idle_.clear();
}

TcpStream& Connection::tcp() {
  return visit([](auto& s) -> TcpStream& { return beast::get_lowest_layer(s); });
}

std::unique_ptr<Connection> ConnectionPool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) {
    return nullptr;
  }
  auto& list = it->second;
  const auto now = Clock::now();
  while (!list.empty()) {
    auto connection = std::move(list.back());
    list.pop_back();
    telemetry::countUp(telemetry::connectionCounts().upstream_idle, -1);
    if (now - connection->idle_since < settings_.pool_idle_timeout) {
      return connection;
    }
  }
  return nullptr;
}

void ConnectionPool::give(const std::string& key, std::unique_ptr<Connection> connection) {
  auto& list = idle_[key];
  if (list.size() >= settings_.pool_max_idle_per_host) {
    return;  // dropping it closes it
  }
  connection->idle_since = Clock::now();
  connection->reused = true;
  connection->deadline().stop();
  list.push_back(std::move(connection));
  telemetry::countUp(telemetry::connectionCounts().upstream_idle);
}

Exchange::Exchange(std::unique_ptr<Connection> connection,
                   std::string pool_key,
                   ConnectionPool& pool,
                   const UpstreamSettings& settings,
                   std::optional<Clock::time_point> deadline,
                   CancelToken* cancel)
    : connection_(std::move(connection)),
      pool_key_(std::move(pool_key)),
      pool_(pool),
      settings_(settings),
      deadline_(deadline),
      cancel_(cancel) {
  // Our own limits apply in readAll(); a streamed body has none.
  parser_.body_limit(boost::none);
  parser_.header_limit(64 * 1024);
}

Exchange::~Exchange() {
  if (cancel_ != nullptr) {
    cancel_->active = nullptr;
  }
  if (connection_ && !broken_ && parser_.is_done() && parser_.keep_alive()) {
    pool_.give(pool_key_, std::move(connection_));
  }
}

void Exchange::armTimer() {
  arm(connection_->deadline(), settings_.read_timeout, deadline_);
  if (cancel_ != nullptr) {
    cancel_->active = &connection_->tcp();
  }
}

Failure Exchange::failureFrom(beast::error_code ec) const {
  return classify(ec, deadline_, cancel_, FailureKind::kBroken);
}

Awaitable<beast::error_code> Exchange::readHeader() {
  armTimer();
  auto result = co_await connection_->visit([&](auto& stream) {
    return http::async_read_header(stream, connection_->buffer, parser_, kUseTuple);
  });
  const auto ec = connection_->deadline().reason(std::get<0>(result));
  if (ec) {
    broken_ = true;
  }
  co_return ec;
}

Awaitable<std::optional<Failure>> Exchange::readSome(std::string& out) {
  char chunk[kReadChunkBytes];
  while (!parser_.is_done()) {
    parser_.lend(chunk, sizeof(chunk));
    armTimer();
    auto result = co_await connection_->visit([&](auto& stream) {
      return http::async_read_some(stream, connection_->buffer, parser_, kUseTuple);
    });
    const auto ec = connection_->deadline().reason(std::get<0>(result));
    if (ec && ec != http::error::need_buffer) {
      broken_ = true;
      co_return failureFrom(ec);
    }
    if (auto failure = parseBuffered()) {
      co_return failure;
    }
    const std::size_t got = sizeof(chunk) - parser_.room();
    if (got > 0) {
      out.append(chunk, got);
      break;
    }
  }
  parser_.lend(nullptr, 0);  // the chunk ends with this call
  co_return std::nullopt;
}

// Beast's read stops after one chunk even when the buffer holds more: every chunk already in
// hand is parsed too, so events that arrived together leave together, and no read waits while
// bytes are in hand. Stops where the buffer ends mid-chunk-header (that needs the socket).
std::optional<Failure> Exchange::parseBuffered() {
  auto& buffer = connection_->buffer;
  while (!parser_.is_done() && buffer.size() > 0 && parser_.room() > 0) {
    beast::error_code ec;
    const std::size_t used = parser_.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more || ec == http::error::need_buffer) {
      break;
    }
    if (ec) {
      broken_ = true;
      return failureFrom(ec);
    }
    if (used == 0) {
      break;
    }
  }
  return std::nullopt;
}

Awaitable<std::optional<Failure>> Exchange::readAll(std::string& out,
                                                    std::size_t limit,
                                                    BufferLease* lease) {
  while (!parser_.is_done()) {
    auto failure = co_await readSome(out);
    if (failure) {
      co_return failure;
    }
    if (out.size() > limit) {
      broken_ = true;
      co_return Failure{FailureKind::kTooLarge, "upstream answer too large"};
    }
    if (lease != nullptr && !lease->growTo(out.capacity())) {
      broken_ = true;
      co_return Failure{FailureKind::kTooLarge,
                        "the gateway holds too many upstream answers at once; try again"};
    }
  }
  co_return std::nullopt;
}

Client::Client(ssl::context& tls, UpstreamSettings settings, const CustomHostPolicy* policy)
    : tls_(tls), settings_(std::move(settings)), policy_(policy), pool_(settings_) {}

Awaitable<std::variant<std::vector<tcp::endpoint>, Failure>> Client::resolve(
    const UpstreamRequest& request) {
  std::vector<tcp::endpoint> candidates;
  unsigned short port = 0;
  std::from_chars(request.port.data(), request.port.data() + request.port.size(), port);
  for (const auto& [name, address] : settings_.static_hosts) {
    beast::error_code ec;
    auto parsed = net::ip::make_address(address, ec);
    if (!ec && beast::iequals(name, request.host)) {
      candidates.emplace_back(parsed, port);
    }
  }
  if (candidates.empty()) {
    auto executor = co_await net::this_coro::executor;
    Resolver resolver(executor);
    auto resolved = co_await resolver.async_resolve(request.host, request.port, kUseTuple);
    auto& [resolve_ec, results] = resolved;
    if (resolve_ec) {
      co_return Failure{FailureKind::kConnect, "cannot resolve " + request.host};
    }
    for (const auto& entry : results) {
      candidates.push_back(entry.endpoint());
    }
  }
  if (!request.check_address || policy_ == nullptr) {
    co_return candidates;
  }
  // Judged here, after DNS and right before connecting, so no answer can point a client-chosen
  // host at a private or metadata address.
  std::erase_if(candidates, [&](const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    const auto bytes =
        address.is_v6() ? address.to_v6().to_bytes()
                        : net::ip::make_address_v6(net::ip::v4_mapped, address.to_v4()).to_bytes();
    return !policy_->allowsResolvedAddress(request.host, bytes);
  });
  if (candidates.empty()) {
    co_return Failure{FailureKind::kRefused,
                      "the custom host " + request.host +
                          " resolves to an address the custom-host policy refuses"};
  }
  co_return candidates;
}

Awaitable<std::variant<std::unique_ptr<Connection>, Failure>> Client::connect(
    const UpstreamRequest& request,
    std::optional<Clock::time_point> deadline,
    CancelToken* cancel) {
  auto executor = co_await net::this_coro::executor;
  auto resolved = co_await resolve(request);
  if (auto* failure = std::get_if<Failure>(&resolved)) {
    co_return *failure;
  }
  const auto endpoints = std::move(std::get<std::vector<tcp::endpoint>>(resolved));

  TcpStream stream(executor);
  arm(stream, settings_.connect_timeout, deadline);
  if (cancel != nullptr) {
    cancel->active = &stream;
  }
  auto connected = co_await stream.async_connect(endpoints, kUseTuple);
  if (cancel != nullptr) {
    cancel->active = nullptr;
  }
  auto& [connect_ec, endpoint] = connected;
  if (connect_ec) {
    Failure failure = classify(connect_ec, deadline, cancel, FailureKind::kConnect);
    if (failure.kind == FailureKind::kReadTimeout) {
      failure = {FailureKind::kConnect, "connect timed out"};
    }
    failure.detail =
        "cannot connect to " + request.host + ":" + request.port + ": " + failure.detail;
    co_return failure;
  }
  stream.socket().set_option(tcp::no_delay(true));

  stream.expires_never();  // from here on the connection's own deadline times it
  if (request.scheme != "https") {
    co_return std::make_unique<Connection>(std::move(stream));
  }

  auto tls = std::make_unique<Connection::TlsStream>(std::move(stream), tls_);
  // SNI is for names only (RFC 6066); certificates are checked against the host either way.
  if (!isIpLiteral(request.host) &&
      !SSL_set_tlsext_host_name(tls->native_handle(), request.host.c_str())) {
    co_return Failure{FailureKind::kConnect, "TLS setup failed"};
  }
  tls->set_verify_mode(ssl::verify_peer);
  tls->set_verify_callback(ssl::host_name_verification(request.host));
  auto& tcp = beast::get_lowest_layer(*tls);
  arm(tcp, settings_.connect_timeout, deadline);
  if (cancel != nullptr) {
    cancel->active = &tcp;
  }
  auto handshake = co_await tls->async_handshake(ssl::stream_base::client, kUseTuple);
  if (cancel != nullptr) {
    cancel->active = nullptr;
  }
  auto& [handshake_ec] = handshake;
  if (handshake_ec) {
    Failure failure = classify(handshake_ec, deadline, cancel, FailureKind::kConnect);
    failure.detail = "TLS handshake with " + request.host + " failed: " + failure.detail;
    if (failure.kind == FailureKind::kReadTimeout) {
      failure.kind = FailureKind::kConnect;
    }
    co_return failure;
  }
  tcp.expires_never();
  co_return std::make_unique<Connection>(std::move(tls));
}

Awaitable<StartResult> Client::attempt(const UpstreamRequest& request,
                                       std::unique_ptr<Connection> connection,
                                       const std::string& key,
                                       std::optional<Clock::time_point> deadline,
                                       CancelToken* cancel) {
  // The head is written here, into the connection's reused buffer, and leaves with the body
  // (not copied) in one gathered write.
  std::string& head = connection->request_head;
  appendRequestHead(head, request);
  const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(request.body)};

  const bool reused = connection->reused;
  arm(connection->deadline(), settings_.read_timeout, deadline);
  if (cancel != nullptr) {
    cancel->active = &connection->tcp();
  }
  auto written = co_await connection->visit(
      [&](auto& stream) { return net::async_write(stream, buffers, kUseTuple); });
  if (cancel != nullptr) {
    cancel->active = nullptr;
  }
  const auto write_ec = connection->deadline().reason(std::get<0>(written));
  if (write_ec) {
    Failure failure = classify(write_ec, deadline, cancel, FailureKind::kBroken);
    if (reused && failure.kind == FailureKind::kBroken && isStaleConnectionError(write_ec)) {
      failure.detail = "stale";
    }
    co_return failure;
  }

  auto exchange =
      std::make_unique<Exchange>(std::move(connection), key, pool_, settings_, deadline, cancel);
  auto header_ec = co_await exchange->readHeader();
  if (header_ec) {
    Failure failure = classify(header_ec, deadline, cancel, FailureKind::kBroken);
    if (reused && failure.kind == FailureKind::kBroken && isStaleConnectionError(header_ec)) {
      failure.detail = "stale";
    }
    co_return failure;
  }
  co_return std::move(exchange);
}

Awaitable<StartResult> Client::start(const UpstreamRequest& request,
                                     std::optional<Clock::time_point> deadline,
                                     CancelToken* cancel) {
  // The one place every upstream request passes: nothing unsafe is written to a socket.
  if (auto unsafe = findUnsafeRequestPart(request)) {
    co_return Failure{FailureKind::kRefused,
                      "Portico will not send " + *unsafe +
                          ": it holds a character not allowed in HTTP (CR, LF, NUL or another "
                          "control character)"};
  }
  // Connections to client-chosen hosts were judged when they were made; they are pooled apart
  // so a request that must be judged never takes a connection that was not.
  std::string key = request.scheme + "://" + request.host + ":" + request.port +
                    (request.check_address ? "#checked" : "");
  if (auto pooled = pool_.take(key)) {
    auto result = co_await attempt(request, std::move(pooled), key, deadline, cancel);
    auto* failure = std::get_if<Failure>(&result);
    if (failure == nullptr || failure->detail != "stale") {
      co_return result;
    }
    // The idle connection had been closed by the upstream: one transparent retry.
  }
  auto connected = co_await connect(request, deadline, cancel);
  if (auto* failure = std::get_if<Failure>(&connected)) {
    co_return *failure;
  }
  auto connection = std::move(std::get<std::unique_ptr<Connection>>(connected));
  auto result = co_await attempt(request, std::move(connection), key, deadline, cancel);
  if (auto* failure = std::get_if<Failure>(&result); failure && failure->detail == "stale") {
    failure->detail = "connection closed by upstream";
  }
  co_return result;
}

std::unique_ptr<ssl::context> makeTlsContext(const std::string& ca_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_default_verify_paths();
  if (!ca_file.empty()) {
    beast::error_code ec;
    context->load_verify_file(ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load CA file " + ca_file + ": " + ec.message());
    }
  }
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

}  // namespace portico::upstream
