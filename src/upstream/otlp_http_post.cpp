#include "upstream/otlp_http_post.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <memory>
#include <optional>

#include "http/beast_http.hpp"
#include "portico/encoding.hpp"
#include "portico/header_hygiene.hpp"

namespace portico::upstream {
namespace {

namespace ssl = net::ssl;
using Clock = std::chrono::steady_clock;
using telemetry::PostHeaders;
using telemetry::PostResult;

struct Destination {
  bool tls = false;
  std::string host;  // for DNS, SNI and the certificate check (no brackets)
  std::string port;
  std::string host_header;  // host[:port] as the URL has it
  std::string target;       // path and query
};

std::optional<Destination> destinationOf(const std::string& url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->host_address().empty()) {
    return std::nullopt;
  }
  Destination out;
  if (parsed->scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
  } else if (parsed->scheme_id() != boost::urls::scheme::http) {
    return std::nullopt;
  }
  out.host = parsed->host_address();
  out.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port())
                                                           : (out.tls ? "443" : "80");
  out.host_header = std::string(parsed->encoded_host_and_port());
  out.target = std::string(parsed->encoded_path());
  if (out.target.empty()) {
    out.target = "/";
  }
  if (parsed->has_query()) {
    out.target += "?" + std::string(parsed->encoded_query());
  }
  return out;
}

bool isIpLiteral(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Framing is the poster's; a configured header may not change it.
bool isFramingHeader(std::string_view name) {
  const std::string lower = asciiLower(name);
  return lower == "host" || lower == "content-length" || lower == "transfer-encoding" ||
         lower == "connection";
}

std::string describe(const beast::error_code& ec) {
  return ec == beast::error::timeout ? "timed out" : ec.message();
}

PostResult failed(std::string why) { return PostResult{0, "", std::move(why)}; }

template <class Stream>
Awaitable<PostResult> exchange(Stream& stream,
                               const http::request<http::string_body>& request,
                               std::size_t max_answer_bytes) {
  auto [write_ec, written] = co_await http::async_write(stream, request, kUseTuple);
  if (write_ec) {
    co_return failed("sending failed: " + describe(write_ec));
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_answer_bytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  if (read_ec && !(read_ec == http::error::body_limit && parser.is_header_done())) {
    co_return failed("no answer: " + describe(read_ec));
  }
  PostResult result;
  result.status = static_cast<int>(parser.get().result_int());
  if (!read_ec) {
    result.body = std::move(parser.get().body());
  }
  co_return result;
}

Awaitable<PostResult> post(ssl::context& tls,
                           const Destination& to,
                           const http::request<http::string_body>& request,
                           Clock::time_point deadline,
                           std::size_t max_answer_bytes) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  net::steady_timer resolve_timer(executor, deadline);
  resolve_timer.async_wait([&resolver](const beast::error_code& ec) {
    if (!ec) resolver.cancel();
  });
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(to.host, to.port, kUseTuple);
  resolve_timer.cancel();
  if (resolve_ec) {
    co_return failed("cannot resolve " + to.host + ": " + describe(resolve_ec));
  }

  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);  // covers every operation below
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kUseTuple);
  if (connect_ec) {
    co_return failed("cannot connect to " + to.host + ":" + to.port + ": " + describe(connect_ec));
  }
  if (!to.tls) {
    co_return co_await exchange(stream, request, max_answer_bytes);
  }
  beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), tls);
  // SNI is for names only (RFC 6066); the certificate is checked against the host either way.
  if (!isIpLiteral(to.host) && !SSL_set_tlsext_host_name(secure.native_handle(), to.host.c_str())) {
    co_return failed("TLS setup failed");
  }
  secure.set_verify_mode(ssl::verify_peer);
  secure.set_verify_callback(ssl::host_name_verification(to.host));
  auto [handshake_ec] = co_await secure.async_handshake(ssl::stream_base::client, kUseTuple);
  if (handshake_ec) {
    co_return failed("TLS handshake with " + to.host + " failed: " + describe(handshake_ec));
  }
  co_return co_await exchange(secure, request, max_answer_bytes);
}

}  // namespace

telemetry::OtlpPoster makeOtlpHttpPoster(OtlpPostOptions options) {
  auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
  tls->set_default_verify_paths();
  if (!options.ca_file.empty()) {
    beast::error_code ec;
    tls->load_verify_file(options.ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load CA file " + options.ca_file + ": " + ec.message());
    }
  }
  tls->set_verify_mode(ssl::verify_peer);
  const std::size_t max_answer_bytes = options.max_answer_bytes;

  return [tls, max_answer_bytes](const std::string& url, const PostHeaders& headers,
                                 const std::string& body,
                                 std::chrono::milliseconds timeout) -> PostResult {
    const auto to = destinationOf(url);
    if (!to) {
      return failed("not an http:// or https:// URL");
    }
    http::request<http::string_body> request{http::verb::post, to->target, 11};
    request.set(http::field::host, to->host_header);
    request.set(http::field::user_agent, "portico/" PORTICO_VERSION);
    request.set(http::field::connection, "close");
    for (const auto& [name, value] : headers) {
      if (!isValidHeaderName(name) || !isValidHeaderValue(value)) {
        return failed("a header name or value holds a control character");
      }
      if (!isFramingHeader(name)) {
        request.set(name, value);
      }
    }
    request.body() = body;
    request.prepare_payload();

    net::io_context ioc;
    std::optional<PostResult> result;
    net::co_spawn(ioc, post(*tls, *to, request, Clock::now() + timeout, max_answer_bytes),
                  [&result](std::exception_ptr error, PostResult answer) {
                    result = error ? failed("internal error") : std::move(answer);
                  });
    ioc.run();
    return result ? std::move(*result) : failed("internal error");
  };
}

}  // namespace portico::upstream
