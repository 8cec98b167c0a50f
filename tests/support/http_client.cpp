#include "support/http_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace portico::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void setTimeout(tcp::socket& socket, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

http::request<http::string_body> makeRequest(const std::string& method,
                                             const std::string& target,
                                             const Headers& headers,
                                             const std::string& body) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  request.body() = body;
  if (!body.empty() || method == "POST") {
    request.prepare_payload();
  }
  return request;
}

Headers headersOf(const http::fields& fields) {
  Headers out;
  for (const auto& field : fields) {
    out.emplace_back(lower(std::string(field.name_string())), std::string(field.value()));
  }
  return out;
}

std::string find(const Headers& headers, const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const { return find(headers, name); }

bool HttpResponse::hasHeader(const std::string& name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return h.first == name; });
}

HttpResponse httpRequest(unsigned short port,
                         const std::string& method,
                         const std::string& target,
                         const Headers& headers,
                         const std::string& body,
                         std::chrono::milliseconds timeout) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  setTimeout(socket, timeout);
  auto request = makeRequest(method, target, headers, body);
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  if (method == "HEAD") {
    parser.skip(true);
  }
  http::read(socket, buffer, parser);
  auto response = parser.release();
  HttpResponse out;
  out.status = response.result_int();
  out.headers = headersOf(response.base());
  out.body = std::move(response.body());
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

HttpResponse postJson(unsigned short port,
                      const std::string& target,
                      const Headers& headers,
                      const std::string& body) {
  Headers all = headers;
  all.emplace_back("content-type", "application/json");
  return httpRequest(port, "POST", target, all, body);
}

struct StreamingResponse::Impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  Headers headers;
};

StreamingResponse::StreamingResponse(unsigned short port,
                                     const std::string& target,
                                     const Headers& headers,
                                     const std::string& body)
    : impl_(std::make_unique<Impl>()) {
  impl_->socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  setTimeout(impl_->socket, std::chrono::seconds(10));
  Headers all = headers;
  all.emplace_back("content-type", "application/json");
  auto request = makeRequest("POST", target, all, body);
  http::write(impl_->socket, request);
  impl_->parser.body_limit(boost::none);
  http::read_header(impl_->socket, impl_->buffer, impl_->parser);
  impl_->headers = headersOf(impl_->parser.get().base());
}

StreamingResponse::~StreamingResponse() = default;

int StreamingResponse::status() const { return impl_->parser.get().result_int(); }

std::string StreamingResponse::header(const std::string& name) const {
  return find(impl_->headers, name);
}

std::string StreamingResponse::readSome(std::chrono::milliseconds timeout) {
  setTimeout(impl_->socket, timeout);
  char chunk[8192];
  while (!impl_->parser.is_done()) {
    impl_->parser.get().body().data = chunk;
    impl_->parser.get().body().size = sizeof(chunk);
    beast::error_code ec;
    http::read_some(impl_->socket, impl_->buffer, impl_->parser, ec);
    if (ec && ec != http::error::need_buffer) {
      throw std::runtime_error("stream read failed: " + ec.message());
    }
    std::size_t got = sizeof(chunk) - impl_->parser.get().body().size;
    if (got > 0) {
      return std::string(chunk, got);
    }
  }
  return "";
}

std::string StreamingResponse::readAll(std::chrono::milliseconds timeout) {
  std::string out;
  for (;;) {
    std::string piece = readSome(timeout);
    if (piece.empty()) {
      return out;
    }
    out += piece;
  }
}

void StreamingResponse::close() {
  beast::error_code ec;
  impl_->socket.set_option(net::socket_base::linger(true, 0), ec);
  impl_->socket.close(ec);
}

void sendRawAndClose(unsigned short port,
                     const std::string& raw,
                     const std::function<bool()>& ready) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(socket, net::buffer(raw));
  ready();
  beast::error_code ec;
  socket.set_option(net::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

std::string rawExchange(unsigned short port, const std::string& raw) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  setTimeout(socket, std::chrono::seconds(5));
  net::write(socket, net::buffer(raw));
  std::string out;
  char chunk[4096];
  for (;;) {
    beast::error_code ec;
    std::size_t n = socket.read_some(net::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) {
      return out;
    }
  }
}

std::vector<std::string> sseData(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    if (end == std::string::npos) {
      end = body.size();
    }
    std::string line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.rfind("data:", 0) == 0) {
      std::string data = line.substr(5);
      if (!data.empty() && data[0] == ' ') {
        data.erase(0, 1);
      }
      out.push_back(data);
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace portico::testing
