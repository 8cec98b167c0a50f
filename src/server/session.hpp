#pragma once

#include <unordered_set>

#include "net.hpp"
#include "proxy/forwarder.hpp"

namespace portico::server {

// One worker thread's world: its event loop, its upstream client and pool, its sessions.
struct Worker {
  Worker(const ServerOptions& options,
         const ProviderRegistry& registry,
         const RouteContextOptions& route_options,
         net::ssl::context& tls,
         const CustomHostPolicy& host_policy,
         upstream::BufferBudget& buffer_budget);

  net::io_context ioc{1};
  upstream::Client client;
  proxy::WorkerContext context;
  tcp::acceptor acceptor{ioc};
  bool draining = false;
  // Open client connections, so shutdown can close the idle ones and, after the grace
  // period, the rest.
  struct SessionEntry {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;
  };
  std::unordered_set<SessionEntry*> sessions;
};

// Serves one client connection until it closes: read, route, answer, keep-alive.
Awaitable<void> runSession(Worker& worker, tcp::socket socket);

// Accepts connections and spawns a session for each.
Awaitable<void> runListener(Worker& worker);

}  // namespace portico::server
