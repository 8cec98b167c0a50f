#include "support/fake_upstream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "support/test_data.hpp"

namespace portico::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

std::string testCaFile() { return std::string(kTestDataDir) + "/certs/ca.pem"; }

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

bool RecordedRequest::hasHeader(const std::string& name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return h.first == name; });
}

std::string RecordedRequest::path() const { return target.substr(0, target.find('?')); }

std::string RecordedRequest::query() const {
  auto q = target.find('?');
  return q == std::string::npos ? "" : target.substr(q + 1);
}

FakeResponse FakeResponse::json(int status, std::string body) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

FakeResponse FakeResponse::sse(std::vector<std::string> events, std::string content_type) {
  FakeResponse r;
  r.headers.emplace_back("content-type", std::move(content_type));
  r.chunks = std::move(events);
  return r;
}

struct FakeUpstream::Impl {
  Handler handler;
  TlsMode tls_mode;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<ssl::context> tls;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> no_delay{false};
  mutable std::mutex mutex;
  mutable std::condition_variable changed;  // notified when requests or aborts are recorded
  std::vector<RecordedRequest> requests;
  std::vector<std::thread> connection_threads;
  std::vector<int> connection_fds;
  std::size_t connections = 0;
  std::size_t client_aborts = 0;

  void sleepFor(std::chrono::milliseconds total) {
    auto until = std::chrono::steady_clock::now() + total;
    while (!stopping && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  template <class Stream>
  void serve(Stream& stream, tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      beast::error_code ec;
      http::read(stream, buffer, request, ec);
      if (ec) {
        return;
      }
      RecordedRequest recorded;
      recorded.method = std::string(request.method_string());
      recorded.target = std::string(request.target());
      for (const auto& field : request) {
        recorded.headers.emplace_back(lower(std::string(field.name_string())),
                                      std::string(field.value()));
      }
      recorded.body = request.body();
      {
        std::lock_guard lock(mutex);
        requests.push_back(recorded);
        changed.notify_all();
      }
      FakeResponse answer = handler(recorded);
      if (answer.close_without_response) {
        return;
      }
      sleepFor(answer.delay_before_headers);
      if (stopping) {
        return;
      }
      bool has_type = std::any_of(answer.headers.begin(), answer.headers.end(),
                                  [](const auto& h) { return lower(h.first) == "content-type"; });
      if (answer.chunks.empty()) {
        http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
        for (const auto& [name, value] : answer.headers) {
          response.set(name, value);
        }
        if (!has_type) {
          response.set(http::field::content_type, "application/json");
        }
        response.body() = answer.body;
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        http::write(stream, response, ec);
        if (ec || !request.keep_alive() || answer.close_after_response) {
          return;
        }
        continue;
      }
      http::response<http::empty_body> response{static_cast<http::status>(answer.status), 11};
      for (const auto& [name, value] : answer.headers) {
        response.set(name, value);
      }
      if (!has_type) {
        response.set(http::field::content_type, "text/event-stream");
      }
      response.chunked(true);
      response.keep_alive(request.keep_alive());
      http::response_serializer<http::empty_body> serializer(response);
      http::write_header(stream, serializer, ec);
      for (const auto& chunk : answer.chunks) {
        if (ec) {
          break;
        }
        sleepFor(answer.chunk_delay);
        if (answer.before_chunk) {
          answer.before_chunk(static_cast<std::size_t>(&chunk - answer.chunks.data()));
        }
        if (chunk.empty()) {
          continue;  // {""} sends the header alone (for "cut before the first byte")
        }
        net::write(stream, http::make_chunk(net::buffer(chunk)), ec);
      }
      if (ec) {
        std::lock_guard lock(mutex);
        ++client_aborts;
        changed.notify_all();
        return;
      }
      if (answer.stall_after_chunks.count() > 0) {
        sleepFor(answer.stall_after_chunks);
        // Probe whether the client is still there.
        net::write(stream, http::make_chunk(net::buffer(std::string(": probe\n\n"))), ec);
        if (!ec) {
          net::write(stream, http::make_chunk(net::buffer(std::string(": probe\n\n"))), ec);
        }
        if (ec) {
          std::lock_guard lock(mutex);
          ++client_aborts;
          changed.notify_all();
          changed.notify_all();
        }
        return;
      }
      if (answer.cut_after_chunks) {
        // Linger 0 makes the close below send a reset, as a crashed upstream would.
        socket.set_option(net::socket_base::linger(true, 0), ec);
        return;
      }
      net::write(stream, http::make_chunk_last(), ec);
      if (ec || !request.keep_alive()) {
        return;
      }
    }
  }

  void handleConnection(tcp::socket socket) {
    if (tls_mode == TlsMode::kPlain) {
      serve(socket, socket);
    } else {
      ssl::stream<tcp::socket&> stream(socket, *tls);
      beast::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      if (!ec) {
        serve(stream, socket);
      }
    }
    beast::error_code ec;
    {
      // Forget the descriptor before closing it: the number may be reused at once.
      std::lock_guard lock(mutex);
      std::erase(connection_fds, socket.native_handle());
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  void acceptLoop() {
    for (;;) {
      tcp::socket socket(ioc);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (stopping) {
        return;
      }
      if (ec) {
        continue;
      }
      if (no_delay) {
        socket.set_option(tcp::no_delay(true), ec);
      }
      std::lock_guard lock(mutex);
      ++connections;
      connection_fds.push_back(socket.native_handle());
      connection_threads.emplace_back(
          [this, s = std::move(socket)]() mutable { handleConnection(std::move(s)); });
    }
  }
};

FakeUpstream::FakeUpstream(Handler handler, TlsMode tls) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->tls_mode = tls;
  if (tls != TlsMode::kPlain) {
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    std::string dir = std::string(kTestDataDir) + "/certs/";
    std::string name = tls == TlsMode::kTls ? "server" : "wrong-name";
    impl_->tls->use_certificate_chain_file(dir + name + ".pem");
    impl_->tls->use_private_key_file(dir + name + ".key", ssl::context::pem);
  }
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([this] { impl_->acceptLoop(); });
}

FakeUpstream::~FakeUpstream() {
  impl_->stopping = true;
  {
    // Wake the blocking accept() with a throwaway connection.
    net::io_context ioc;
    tcp::socket wake(ioc);
    beast::error_code ec;
    wake.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port()), ec);
  }
  impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    for (int fd : impl_->connection_fds) {
      ::shutdown(fd, SHUT_RDWR);
    }
    threads.swap(impl_->connection_threads);
  }
  for (auto& thread : threads) {
    thread.join();
  }
}

unsigned short FakeUpstream::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string FakeUpstream::baseUrl() const {
  return (impl_->tls_mode != TlsMode::kPlain ? "https://localhost:" : "http://127.0.0.1:") +
         std::to_string(port());
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::optional<RecordedRequest> FakeUpstream::lastRequest() const {
  std::lock_guard lock(impl_->mutex);
  if (impl_->requests.empty()) {
    return std::nullopt;
  }
  return impl_->requests.back();
}

std::size_t FakeUpstream::requestCount() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests.size();
}

std::size_t FakeUpstream::connectionCount() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}

std::size_t FakeUpstream::clientAbortCount() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->client_aborts;
}

bool FakeUpstream::waitForRequests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->requests.size() >= n; });
}

void FakeUpstream::setNoDelay(bool on) { impl_->no_delay = on; }

bool FakeUpstream::waitForClientAborts(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->client_aborts >= n; });
}

}  // namespace portico::testing
