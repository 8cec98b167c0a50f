#include "server/session.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "base/router.hpp"
#include "http/beast_answer_writer.hpp"
#include "http/request_reader.hpp"
#include "telemetry/connection_counts.hpp"

namespace portico::server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::string_view kRootText = "AI Gateway says hey!";

// Notices a client that hangs up while its request is upstream, and cancels the upstream side.
// A one-byte peek: end of stream or an error means the peer is gone; pipelined bytes just end
// the watch. The receive is tried at once and then left to the socket's edge-triggered
// registration, where async_wait would re-arm the descriptor (one epoll_ctl per request).
class ClientWatch {
 public:
  explicit ClientWatch(TcpStream& client) : client_(client), state_(std::make_shared<State>()) {
    auto state = state_;
    client_.socket().async_receive(
        net::buffer(&state->byte, 1), tcp::socket::message_peek,
        [state](const beast::error_code& ec, std::size_t) {
          if (state->stopped || ec == net::error::operation_aborted) {
            return;
          }
          if (ec) {  // eof: the client closed; anything else: the connection broke
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
  CancelToken* token() { return &state_->token; }

 private:
  struct State {
    CancelToken token;
    bool stopped = false;
    char byte = 0;  // the peek's target: stays with the operation, whatever ends first
  };
  TcpStream& client_;
  std::shared_ptr<State> state_;
};

// The answers the server gives itself: the root text, /health, /ready, /metrics, Portkey's 404.
Awaitable<bool> answerLocally(Worker& worker,
                              const edge::IncomingRequest& request,
                              const Route& route,
                              edge::AnswerWriter& writer) {
  const auto started = Clock::now();
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  if (route.kind == RouteKind::kRoot) {
    body = kRootText;
    content_type = "text/plain; charset=UTF-8";
  } else if (route.kind == RouteKind::kHealth) {
    body = json{{"status", "ok"}, {"version", PORTICO_VERSION}}.dump();
  } else if (route.kind == RouteKind::kReady) {
    // Not ready while this process drains (any of its listeners) or misses what it needs.
    const auto& options = worker.options;
    const bool draining = worker.draining || (options.draining && options.draining->load());
    const bool dependencies = !options.ready || options.ready();
    status = !draining && dependencies ? 200 : 503;
    body = json{{"status", draining ? "draining" : dependencies ? "ready" : "not ready"}}.dump();
  } else if (route.kind == RouteKind::kMetrics) {
    body = worker.options.metrics();
    content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    status = 404;
    body = errors::notFound().body.dump();
  }
  const bool ok = co_await writer.writeComplete(status, content_type, std::move(body), {});
  const std::string_view target = request.target;
  worker.gateway.answeredLocally(request.method, target.substr(0, target.find('?')), status,
                                 started);
  co_return ok;
}

// One handler call on the admin pool's thread: the call's text is copied, as the request it
// views may not be touched from another thread.
// Runs on the admin pool's executor, so it is a coroutine of Asio's type-erased executor.
net::awaitable<AdminReply> callOnPool(const std::function<AdminReply(const AdminCall&)>* handler,
                                      std::string method,
                                      std::string path,
                                      std::string query,
                                      std::string authorization,
                                      std::string body) {
  try {
    co_return (*handler)(AdminCall{method, path, query, authorization, body});
  } catch (const std::exception& e) {
    spdlog::error("admin call failed: {}", e.what());
  }
  co_return AdminReply{503, errors::failure(503, "The key store is unavailable").body.dump()};
}

// The admin API or the console, when the server has them; else the path is not found.
Awaitable<bool> answerByHandler(Worker& worker,
                                const edge::IncomingRequest& request,
                                const Route& route,
                                const std::function<AdminReply(const AdminCall&)>& handler,
                                edge::AnswerWriter& writer) {
  const auto started = Clock::now();
  AdminReply reply{404, errors::notFound().body.dump()};
  if (handler) {
    const std::string_view authorization =
        findHeader(request.headers, "authorization").value_or("");
    if (route.kind == RouteKind::kAdmin && worker.admin_pool != nullptr) {
      // Resumes on this worker once the pool's thread is done (use_awaitable rethrows here,
      // under the session's logged co_spawn; callOnPool catches what the handler throws).
      auto call = callOnPool(&handler, std::string(request.method), route.path, route.query,
                             std::string(authorization), request.body);
      auto answered = co_await net::co_spawn(worker.admin_pool->get_executor(), std::move(call),
                                             net::use_awaitable_t<Executor>{});
      reply = std::move(answered);
    } else {
      reply =
          handler(AdminCall{request.method, route.path, route.query, authorization, request.body});
    }
  }
  const bool ok = co_await writer.writeComplete(reply.status, reply.content_type,
                                                std::move(reply.body), reply.headers);
  worker.gateway.answeredLocally(request.method, route.path, reply.status, started);
  co_return ok;
}

// What this listener does not serve is not found here.
void hideUnserved(const ListenerRoutes& routes, const ServerOptions& options, Route& route) {
  const bool served = route.kind == RouteKind::kGateway   ? routes.gateway
                      : route.kind == RouteKind::kAdmin   ? routes.admin
                      : route.kind == RouteKind::kMetrics ? routes.metrics && options.metrics
                      : route.kind == RouteKind::kConsole ? routes.console
                                                          : true;
  if (!served) {
    route.kind = RouteKind::kNotFound;
  }
}

// Handles one request; returns false when the connection must close.
Awaitable<bool> serveRequest(Worker& worker,
                             TcpStream& stream,
                             ConnectionDeadline& deadline,
                             std::string& write_scratch,
                             edge::IncomingRequest& request) {
  const bool keep_alive = request.keep_alive && !worker.draining;
  edge::BeastAnswerWriter writer(stream, deadline, write_scratch, request.version, keep_alive,
                                 request.head, worker.options.keep_alive_timeout);
  Route route = routeRequest(request.method, request.target);
  hideUnserved(worker.options.routes, worker.options, route);
  if (route.kind == RouteKind::kAdmin || route.kind == RouteKind::kConsole) {
    const auto& handler =
        route.kind == RouteKind::kAdmin ? worker.options.admin : worker.options.console;
    const bool ok = co_await answerByHandler(worker, request, route, handler, writer);
    co_return ok&& keep_alive;
  }
  if (route.kind != RouteKind::kGateway) {
    const bool ok = co_await answerLocally(worker, request, route, writer);
    co_return ok&& keep_alive;
  }
  proxy::GatewayRequest gateway_request;
  gateway_request.endpoint = route.endpoint;
  gateway_request.method = request.method;
  gateway_request.path = std::move(route.path);
  gateway_request.query = std::move(route.query);
  // Lent, not moved: they come back with their capacity for the connection's next request.
  gateway_request.headers.swap(request.headers);
  gateway_request.body.swap(request.body);
  const std::string_view target = request.target;
  ClientWatch watch(stream);
  const bool ok = co_await worker.gateway.serve(gateway_request, target.substr(0, target.find('?')),
                                                writer, watch.token());
  request.headers.swap(gateway_request.headers);
  request.body.swap(gateway_request.body);
  co_return ok&& keep_alive;
}

// A session's place in the worker's set and in the connection gauges, for exactly as long as
// the session runs, however it ends (an exception included: drain must never see it after).
class SessionRegistration {
 public:
  SessionRegistration(Worker& worker, Worker::SessionEntry& entry)
      : worker_(worker), entry_(entry) {
    worker_.sessions.insert(&entry_);
    auto& counts = telemetry::connectionCounts();
    telemetry::countUp(counts.client_open);
    telemetry::countUp(counts.client_accepted);
  }
  ~SessionRegistration() {
    worker_.sessions.erase(&entry_);
    telemetry::countUp(telemetry::connectionCounts().client_open, -1);
  }
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;

 private:
  Worker& worker_;
  Worker::SessionEntry& entry_;
};

}  // namespace

Worker::Worker(const ServerOptions& server_options,
               const ProviderRegistry& registry,
               const RouteContextOptions& route_options,
               const CustomHostPolicy& host_policy,
               proxy::SharedResources& shared)
    : options(server_options),
      gateway(ioc.get_executor(), server_options, registry, route_options, host_policy, shared) {}

Awaitable<void> runSession(Worker& worker, Socket socket) {
  TcpStream stream(std::move(socket));
  const auto& options = worker.options;
  ConnectionDeadline deadline(stream);
  edge::RequestReader reader(
      stream, deadline,
      edge::ReaderLimits{options.max_header_bytes, options.max_body_bytes,
                         options.request_read_timeout, options.keep_alive_timeout});
  Worker::SessionEntry entry{&stream, false};
  const SessionRegistration registration(worker, entry);
  std::string write_scratch;      // answer heads and chunk framing, reused by every request
  edge::IncomingRequest request;  // overwritten by each request, its strings' capacity kept
  for (;;) {
    entry.busy = false;
    if (worker.draining) {
      break;
    }
    if (!co_await reader.next(request, entry.busy)) {
      break;
    }
    if (!co_await serveRequest(worker, stream, deadline, write_scratch, request)) {
      break;
    }
  }
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
        SteadyTimer pause(worker.ioc, std::chrono::milliseconds(50));
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
