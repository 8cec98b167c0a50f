#pragma once

#include <boost/asio/thread_pool.hpp>
#include <unordered_set>

#include "net.hpp"
#include "proxy/gateway.hpp"

namespace portico::server {

// One worker thread's world: its event loop, its gateway (pipeline and upstream pool), its
// listener and sessions.
struct Worker {
  Worker(const ServerOptions& options,
         const ProviderRegistry& registry,
         const RouteContextOptions& route_options,
         const CustomHostPolicy& host_policy,
         proxy::SharedResources& shared);

  const ServerOptions& options;
  // Only this worker's thread runs the loop and touches its sockets (shutdown's drain and the
  // admin pool's answers are posted to it), so the reactor's per-socket locks can go; posting
  // from other threads stays safe.
  net::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  proxy::Gateway gateway;
  Acceptor acceptor{ioc};
  // Where the admin API's handler runs (null: on this worker, as the console's does).
  net::thread_pool* admin_pool = nullptr;
  bool draining = false;
  // Open client connections, so shutdown can close the idle ones and, after the grace
  // period, the rest.
  struct SessionEntry {
    TcpStream* stream = nullptr;
    bool busy = false;
  };
  std::unordered_set<SessionEntry*> sessions;
};

// Serves one client connection until it closes: read, route, answer, keep-alive.
Awaitable<void> runSession(Worker& worker, Socket socket);

// Accepts connections and spawns a session for each.
Awaitable<void> runListener(Worker& worker);

}  // namespace portico::server
