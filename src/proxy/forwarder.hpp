#pragma once

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "net.hpp"
#include "portico/provider_registry.hpp"
#include "portico/route_context.hpp"
#include "portico/server.hpp"
#include "upstream/upstream_client.hpp"

namespace portico::routing {
class ResponseCache;
}

namespace portico::proxy {

// Per-worker state the request path needs. Touched only from its worker's thread.
struct WorkerContext {
  const ServerOptions& options;
  const ProviderRegistry& registry;
  const RouteContextOptions& route_options;
  upstream::Client& client;
  std::mt19937_64 random{std::random_device{}()};
  // Tokens fetched for adapters' TokenExchange requests (service accounts), by cache key.
  struct CachedToken {
    std::string token;
    std::chrono::steady_clock::time_point valid_until;
  };
  std::unordered_map<std::string, CachedToken> token_cache;
  // The server's response cache, shared by all workers (thread-safe); null: caching off.
  routing::ResponseCache* cache = nullptr;
  // Bounds the non-streamed upstream answers all workers hold at once; null: no bound.
  upstream::BufferBudget* buffer_budget = nullptr;
};

// A request for a /v1/* route, as read off the wire.
struct GatewayRequest {
  Endpoint endpoint = Endpoint::kPassthrough;
  std::string method;
  std::string path;    // after /v1
  std::string query;   // without '?'
  HeaderList headers;  // lower-case names
  std::string body;
};

// What to send back: a complete answer, or a 2xx upstream stream to relay.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // x-portkey-* and the upstream headers worth passing on

  // Set when the answer is streamed: the open upstream exchange and, for providers whose stream
  // is not OpenAI's SSE, the transformer to apply.
  std::unique_ptr<upstream::Exchange> stream;
  std::string first_bytes;  // the stream's first piece, already read from the upstream
  std::unique_ptr<StreamTransformer> transformer;
  // The stream is OpenAI's chat or completions SSE relayed as it comes: it must end with
  // data: [DONE], which the relay adds when the upstream did not.
  bool openai_stream = false;
  // The share of the buffer budget `body` holds while it waits to be written.
  upstream::BufferLease buffered;

  // For the access log and mid-stream errors.
  std::string provider;
  std::string trace_id;
  std::chrono::microseconds upstream_time{0};
  bool client_gone = false;  // the client disconnected; send nothing
};

// Runs a gateway request: route context, routing plan, adapter, upstream call. Never throws.
Awaitable<Reply> forward(WorkerContext& worker,
                         GatewayRequest request,
                         upstream::CancelToken* cancel);

// A Reply carrying a gateway error.
Reply errorReply(const GatewayError& error);

}  // namespace portico::proxy
