#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "cancel_token.hpp"
#include "http/answer_writer.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/route_context.hpp"
#include "portico/server.hpp"
#include "proxy/gateway_request.hpp"

namespace portico::proxy {

// What every worker's gateway shares: the upstream TLS context, the response cache, the buffer
// budget and the observers. Outlives the gateways.
class SharedResources {
 public:
  // Throws std::runtime_error when options.ca_file cannot be loaded.
  explicit SharedResources(const ServerOptions& options);
  ~SharedResources();

  struct Parts;
  Parts& parts() { return *parts_; }

 private:
  std::unique_ptr<Parts> parts_;
};

// One worker's request pipeline, as the server sees it: requests in, answers out through an
// AnswerWriter. The server never sees upstream connections, providers or replies.
class Gateway {
 public:
  // `executor`: the worker's event loop, which this gateway's connections run on.
  Gateway(net::any_io_executor executor,
          const ServerOptions& options,
          const ProviderRegistry& registry,
          const RouteContextOptions& route_options,
          const CustomHostPolicy& host_policy,
          SharedResources& shared);
  ~Gateway();

  // Runs a /v1 request and writes its answer. `log_path` is the request path as the client sent
  // it (without the query). Returns false when the client connection can no longer be used.
  Awaitable<bool> serve(const GatewayRequest& request,
                        std::string_view log_path,
                        edge::AnswerWriter& writer,
                        CancelToken* cancel);

  // Tells the observers about a request the server answered itself (/, /health, 404).
  void answeredLocally(std::string_view method,
                       std::string_view path,
                       int status,
                       std::chrono::steady_clock::time_point started) const;

  // Closes the idle upstream connections and the Redis connection (shutdown).
  void closeIdleConnections();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::proxy
