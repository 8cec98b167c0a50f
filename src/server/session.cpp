#include "server/session.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>

#include "base/router.hpp"
#include "portico/openai_wire.hpp"
#include "portico/header_hygiene.hpp"
#include "portico/request_framing.hpp"
#include "stream/sse_framing.hpp"

namespace portico::server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::string_view kRootText = "AI Gateway says hey!";
// The longest SSE event a relay waits for before it calls the stream broken.
constexpr std::size_t kMaxPartialEventBytes = 8 * 1024 * 1024;

bool isEventStreamType(std::string_view content_type) {
  const auto media = content_type.substr(0, content_type.find(';'));
  return beast::iequals(media, "text/event-stream");
}

// Notices a client that hangs up while its request is upstream, and cancels the upstream side.
// Readable with nothing to read means the peer closed; pipelined bytes just end the watch.
class ClientWatch {
 public:
  ClientWatch(beast::tcp_stream& client) : client_(client), state_(std::make_shared<State>()) {
    auto state = state_;
    auto& socket = client_.socket();
    socket.async_wait(tcp::socket::wait_read, [state, &socket](const beast::error_code& ec) {
      if (ec || state->stopped) {
        return;
      }
      char byte;
      ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        state->token.cancel();
      }
    });
  }
  ~ClientWatch() {
    state_->stopped = true;
    state_->token.active = nullptr;
    beast::error_code ignored;
    client_.socket().cancel(ignored);
  }
  upstream::CancelToken* token() { return &state_->token; }

 private:
  struct State {
    upstream::CancelToken token;
    bool stopped = false;
  };
  beast::tcp_stream& client_;
  std::shared_ptr<State> state_;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Every Transfer-Encoding field line joined with ", ", as RFC 9110 reads repeated fields.
std::optional<std::string> joinedTransferEncoding(const http::fields& fields) {
  auto [first, last] = fields.equal_range(http::field::transfer_encoding);
  if (first == last) {
    return std::nullopt;
  }
  std::string joined;
  for (auto it = first; it != last; ++it) {
    if (!joined.empty()) {
      joined += ", ";
    }
    joined += it->value();
  }
  return joined;
}

HeaderList headerList(const http::fields& fields) {
  HeaderList out;
  for (const auto& field : fields) {
    out.emplace_back(lower(field.name_string()), std::string(field.value()));
  }
  return out;
}

// Beast writes header values verbatim: whatever reaches a client answer passes the same check
// as upstream requests, and a header that fails it is left out rather than split the answer.
template <class Message>
void insertSafeHeaders(Message& response, const HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (isValidHeaderName(name) && isValidHeaderValue(value)) {
      response.insert(name, value);
    }
  }
}

Awaitable<bool> writeSimple(beast::tcp_stream& stream,
                            unsigned version,
                            bool keep_alive,
                            int status,
                            std::string_view content_type,
                            std::string body,
                            const HeaderList& headers,
                            bool head_only,
                            std::chrono::milliseconds timeout) {
  http::response<http::string_body> response;
  response.version(version);
  response.result(static_cast<unsigned>(status));
  insertSafeHeaders(response, headers);
  response.set(http::field::content_type, content_type);
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  if (head_only) {
    response.body().clear();
  }
  stream.expires_after(timeout);
  if (head_only) {
    http::response_serializer<http::string_body> serializer(response);
    auto written = co_await http::async_write_header(stream, serializer, kUseTuple);
    auto& [ec, n] = written;
    co_return !ec;
  }
  auto written = co_await http::async_write(stream, response, kUseTuple);
  auto& [ec, n] = written;
  co_return !ec;
}

// Feeds a translating stream, and finishes it at the end. Adapters may use nlohmann's throwing
// accessors; an upstream event of the wrong shape lands here as an exception, and the stream
// then ends with an error event instead of a cut connection. Returns false on such an event.
bool transformStream(StreamTransformer& transformer,
                     std::string_view bytes,
                     bool done,
                     std::string& out) {
  try {
    transformer.feed(bytes, out);
    if (done) {
      transformer.finish(true, out);
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Relays a 2xx upstream stream to the client chunk by chunk: one read, one write.
// Returns false when the client connection can no longer be used.
Awaitable<bool> relayStream(Worker& worker,
                            beast::tcp_stream& stream,
                            unsigned version,
                            bool keep_alive,
                            proxy::Reply& reply) {
  http::response<http::empty_body> response;
  response.version(version);
  response.result(static_cast<unsigned>(reply.status));
  insertSafeHeaders(response, reply.headers);
  response.set(http::field::content_type, reply.content_type);
  response.set(http::field::cache_control, "no-cache");
  response.keep_alive(keep_alive);
  response.chunked(true);
  http::response_serializer<http::empty_body> serializer(response);
  const auto write_timeout = worker.context.options.keep_alive_timeout;
  stream.expires_after(write_timeout);
  auto header_written = co_await http::async_write_header(stream, serializer, kUseTuple);
  if (std::get<0>(header_written)) {
    co_return false;
  }

  std::string upstream_bytes = std::move(reply.first_bytes);
  std::string out;
  // Relayed SSE is written only up to the last complete event; the rest waits here for its
  // end, so an error after a break never lands inside half an event.
  const bool hold_partial_events = !reply.transformer && isEventStreamType(reply.content_type);
  std::string partial;
  stream::EventBoundaryScanner boundaries;
  bool saw_done = false;  // the last event written was data: [DONE]
  bool upstream_ok = true;
  bool prefetched = true;  // the forwarder read the first piece before answering
  for (;;) {
    out.clear();
    std::optional<upstream::Failure> failure;
    if (!prefetched) {
      upstream_bytes.clear();
      failure = co_await reply.stream->readSome(upstream_bytes);
    }
    prefetched = false;
    if (!failure && hold_partial_events) {
      partial += upstream_bytes;
      if (partial.size() > kMaxPartialEventBytes) {
        failure = upstream::Failure{upstream::FailureKind::kBroken, "an event is too large"};
      }
    }
    if (failure) {
      if (failure->kind == upstream::FailureKind::kCancelled) {
        co_return false;
      }
      spdlog::warn("stream from {} broke: {} (trace {})", reply.provider, failure->detail,
                   reply.trace_id);
      upstream_ok = false;
      if (reply.transformer) {
        try {
          reply.transformer->finish(false, out);
        } catch (const std::exception&) {
          out = openai::sseError(reply.provider, "the stream broke: " + failure->detail);
        }
      } else {
        out = openai::sseError(reply.provider, "the stream broke: " + failure->detail);
      }
    } else if (reply.transformer) {
      if (!transformStream(*reply.transformer, upstream_bytes, reply.stream->done(), out)) {
        spdlog::warn("stream from {} could not be translated (trace {})", reply.provider,
                     reply.trace_id);
        upstream_ok = false;
        out += openai::sseError(reply.provider, "the upstream sent an event of the wrong shape");
      }
    } else if (hold_partial_events) {
      const bool done = reply.stream->done();
      const std::size_t complete = done ? partial.size() : boundaries.scan(partial);
      if (complete == partial.size()) {
        out.swap(partial);
        partial.clear();
        boundaries = {};
      } else {
        out.assign(partial, 0, complete);
        partial.erase(0, complete);
        boundaries.consumed(complete);
      }
      if (!out.empty()) {
        saw_done = stream::endsWithDoneEvent(out);
      }
      if (done && reply.openai_stream && !saw_done) {
        // OpenAI's streams end with [DONE] and clients wait for it; some compatible upstreams
        // (perplexity) just stop.
        if (stream::completeEventsLength(out) != out.size()) {
          out += "\n\n";
        }
        out += openai::sseDone();
      }
    } else {
      out.swap(upstream_bytes);
    }
    if (!out.empty()) {
      stream.expires_after(write_timeout);
      auto written =
          co_await net::async_write(stream, http::make_chunk(net::buffer(out)), kUseTuple);
      if (std::get<0>(written)) {
        co_return false;  // the client went away: dropping the exchange closes the upstream
      }
    }
    if (!upstream_ok || reply.stream->done()) {
      break;
    }
  }
  reply.stream.reset();  // hands a cleanly finished connection back to the pool
  stream.expires_after(write_timeout);
  auto last = co_await net::async_write(stream, http::make_chunk_last(), kUseTuple);
  // The client's response is complete either way, so a broken upstream does not cost the client
  // its keep-alive connection.
  co_return !std::get<0>(last);
}

void logAccess(const Worker& worker,
               std::string_view method,
               std::string_view target,
               int status,
               const proxy::Reply* reply,
               Clock::time_point started) {
  if (!worker.context.options.access_log || !spdlog::should_log(spdlog::level::info)) {
    return;
  }
  auto total = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  auto path = target.substr(0, target.find('?'));
  if (reply == nullptr) {
    spdlog::info("{} {} status={} total_ms={:.2f}", method, path, status, total);
    return;
  }
  spdlog::info("{} {} provider={} status={} upstream_ms={:.2f} total_ms={:.2f} trace={}", method,
               path, reply->provider.empty() ? "-" : reply->provider, status,
               reply->upstream_time.count() / 1000.0, total, reply->trace_id);
}

// Handles one request; returns false when the connection must close.
Awaitable<bool> serveRequest(Worker& worker,
                             beast::tcp_stream& stream,
                             http::request<http::string_body>& request) {
  const auto started = Clock::now();
  const auto& options = worker.context.options;
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive() && !worker.draining;
  const std::string method(request.method_string());
  const std::string target(request.target());
  const bool head = request.method() == http::verb::head;
  Route route = routeRequest(method, target);

  if (route.kind != RouteKind::kGateway) {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    if (route.kind == RouteKind::kRoot) {
      body = kRootText;
      content_type = "text/plain; charset=UTF-8";
    } else if (route.kind == RouteKind::kHealth) {
      body = json{{"status", "ok"}, {"version", "0.1.0"}}.dump();
    } else {
      status = 404;
      body = errors::notFound().body.dump();
    }
    bool ok = co_await writeSimple(stream, version, keep_alive, status, content_type,
                                   std::move(body), {}, head, options.keep_alive_timeout);
    logAccess(worker, method, target, status, nullptr, started);
    co_return ok&& keep_alive;
  }

  proxy::GatewayRequest gateway_request;
  gateway_request.endpoint = route.endpoint;
  gateway_request.method = method;
  gateway_request.path = std::move(route.path);
  gateway_request.query = std::move(route.query);
  gateway_request.headers = headerList(request.base());
  gateway_request.body = std::move(request.body());

  ClientWatch watch(stream);
  proxy::Reply reply =
      co_await proxy::forward(worker.context, std::move(gateway_request), watch.token());
  if (reply.client_gone) {
    logAccess(worker, method, target, 499, &reply, started);
    co_return false;
  }
  bool ok = false;
  if (reply.stream) {
    ok = co_await relayStream(worker, stream, version, keep_alive, reply);
  } else {
    ok = co_await writeSimple(stream, version, keep_alive, reply.status, reply.content_type,
                              std::move(reply.body), reply.headers, head,
                              options.keep_alive_timeout);
  }
  logAccess(worker, method, target, reply.status, &reply, started);
  co_return ok&& keep_alive;
}

}  // namespace

Worker::Worker(const ServerOptions& options,
               const ProviderRegistry& registry,
               const RouteContextOptions& route_options,
               net::ssl::context& tls,
               const CustomHostPolicy& host_policy,
               upstream::BufferBudget& buffer_budget)
    : client(tls,
             upstream::UpstreamSettings{options.upstream_connect_timeout,
                                        options.upstream_read_timeout, options.pool_idle_timeout,
                                        options.pool_max_idle_per_host, options.static_hosts},
             &host_policy),
      context{options, registry, route_options, client} {
  context.buffer_budget = &buffer_budget;
}

Awaitable<void> runSession(Worker& worker, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  const auto& options = worker.context.options;
  Worker::SessionEntry entry{&stream, false};
  worker.sessions.insert(&entry);
  bool first = true;

  for (;;) {
    entry.busy = false;
    if (worker.draining) {
      break;
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(first ? options.request_read_timeout : options.keep_alive_timeout);
    auto header_read = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    auto& [header_ec, header_bytes] = header_read;
    (void)header_bytes;
    entry.busy = true;
    first = false;
    beast::error_code ec = header_ec;
    if (!ec) {
      // Beast reads a Transfer-Encoding that is not exactly "chunked" as "no body", and the
      // body's bytes would then run as the next request: refuse it and close.
      if (auto problem = checkTransferEncoding(joinedTransferEncoding(parser.get()))) {
        auto error = errors::failure(problem->status, problem->message);
        co_await writeSimple(stream, 11, false, error.status, "application/json", error.body.dump(),
                             {}, false, options.request_read_timeout);
        break;
      }
    }
    if (!ec) {
      // curl and others wait for "100 Continue" before sending a large body.
      auto expect = parser.get()[http::field::expect];
      if (beast::iequals(expect, "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        auto continued = co_await http::async_write(stream, go_on, kUseTuple);
        ec = std::get<0>(continued);
      }
    }
    if (!ec) {
      stream.expires_after(options.request_read_timeout);
      auto body_read = co_await http::async_read(stream, buffer, parser, kUseTuple);
      ec = std::get<0>(body_read);
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit ||
        ec == http::error::buffer_overflow) {
      auto error = errors::payloadTooLarge();
      co_await writeSimple(stream, 11, false, error.status, "application/json", error.body.dump(),
                           {}, false, options.request_read_timeout);
      break;
    }
    if (ec) {
      const bool clean_close = ec == http::error::end_of_stream || ec == net::error::eof ||
                               ec == beast::error::timeout || ec == net::error::operation_aborted ||
                               ec == net::error::connection_reset;
      if (!clean_close && parser.got_some()) {
        auto error = errors::failure(400, "Malformed HTTP request: " + ec.message());
        co_await writeSimple(stream, 11, false, 400, "application/json", error.body.dump(), {},
                             false, options.request_read_timeout);
      }
      break;
    }
    auto request = parser.release();
    bool keep_going = co_await serveRequest(worker, stream, request);
    if (!keep_going) {
      break;
    }
  }

  worker.sessions.erase(&entry);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

Awaitable<void> runListener(Worker& worker) {
  for (;;) {
    auto accepted = co_await worker.acceptor.async_accept(kUseTuple);
    auto& [ec, socket] = accepted;
    if (ec) {
      if (!worker.acceptor.is_open() || worker.draining) {
        co_return;
      }
      if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
        spdlog::error("accept failed: {}; pausing 50 ms", ec.message());
        net::steady_timer pause(worker.ioc, std::chrono::milliseconds(50));
        co_await pause.async_wait(kUseTuple);
      }
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(worker.ioc, runSession(worker, std::move(socket)), [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("session ended by exception: {}", ex.what());
        }
      }
    });
  }
}

}  // namespace portico::server
