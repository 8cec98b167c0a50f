#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "portico/http_types.hpp"
#include "portico/observer.hpp"
#include "portico/provider_registry.hpp"

namespace portico {

namespace redis {
class Health;
}
namespace proxy {
class VirtualKeyResolver;
}

// One call of the admin API (/admin/...), as the server hands it over.
struct AdminCall {
  std::string_view method;
  std::string_view path;  // without the query
  std::string_view query;
  std::string_view authorization;
  std::string_view body;
};

struct AdminReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  HeaderList headers;  // more answer headers, lower-case names
};

// Which routes a listener serves: the gateway's port serves all of them; --admin-port and
// --metrics-port listeners serve their own and the health checks.
struct ListenerRoutes {
  bool gateway = true;  // /v1/...
  bool admin = true;    // /admin/... (when ServerOptions::admin is set)
  bool metrics = true;  // /metrics (when ServerOptions::metrics is set)
  bool console = true;  // /console... (when ServerOptions::console is set)
};

// Process settings. Immutable once the server starts.
struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8787;  // 0 picks a free port (tests)
  int threads = 0;             // 0: one per core
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 32 * 1024 * 1024;
  // A non-streamed upstream answer is held whole (to translate it); chat answers are kilobytes,
  // large embedding batches a few megabytes. Past it: 502.
  std::size_t max_upstream_body_bytes = 16 * 1024 * 1024;
  // All non-streamed upstream answers held at once, every worker together, so that many
  // clients choosing hosts that answer big cannot take the memory between them. Past it: 502.
  std::size_t max_buffered_upstream_bytes = 256 * 1024 * 1024;
  std::chrono::milliseconds request_read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds keep_alive_timeout{std::chrono::seconds(75)};
  std::chrono::milliseconds upstream_connect_timeout{std::chrono::seconds(10)};
  // Longest silence from an upstream before the request fails with 504 (0: none).
  std::chrono::milliseconds upstream_read_timeout{std::chrono::seconds(600)};
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
  std::chrono::milliseconds pool_idle_timeout{std::chrono::seconds(50)};
  std::size_t pool_max_idle_per_host = 64;
  std::string ca_file;  // extra CA bundle for upstream TLS, besides the system store
  std::vector<std::string> trusted_custom_hosts;  // empty: Portkey's default list
  // Host name -> IP address answers the upstream client uses instead of DNS, as /etc/hosts
  // would; tests use it to play a DNS answer that points a custom host at a private address.
  std::vector<std::pair<std::string, std::string>> static_hosts;
  bool access_log = true;
  bool log_json = false;  // the access line as one JSON object (--log-format json)
  // More observers of every request and attempt (metrics, traces, limits, tests), after the
  // access log. Shared by all workers: each must be safe to call from several threads.
  std::vector<std::shared_ptr<Observer>> observers;
  // Multiplies every wait between retries (backoff and retry-after). The retry policy still
  // decides with the real values; tests set this small so they need not sleep for seconds.
  double retry_delay_scale = 1.0;
  // Memory bound of the in-process response cache used by `cache.mode: "simple"`.
  std::size_t cache_max_bytes = 64 * 1024 * 1024;
  // The Redis every replica shares (--redis, a redis:// URL main has checked): each worker keeps
  // one connection to it for virtual keys' shared limits and for the response cache, which
  // then lives there instead of in this process. "" : none.
  std::string redis_url;
  // The longest wait for a Redis answer before the failure mode applies (a cache lookup misses).
  std::chrono::milliseconds redis_timeout{200};
  // Counts what the workers' Redis connections see (for /metrics); made with them when null.
  std::shared_ptr<redis::Health> redis_health;
  // The response cache's clock (empty: steady_clock); tests inject one to expire entries.
  std::function<std::chrono::steady_clock::time_point()> cache_clock;
  // Resolves x-portkey-virtual-key and virtual_key in configs (null: virtual keys are refused).
  // Must outlive the server and be safe to call from every worker at once.
  const proxy::VirtualKeyResolver* virtual_keys = nullptr;
  // Answers /admin/... (null: those paths are 404). Called on the server's admin thread (its
  // store work must not hold up a worker), one call at a time.
  std::function<AdminReply(const AdminCall&)> admin;
  ListenerRoutes routes;
  // The Prometheus exposition text for GET /metrics (null: 404).
  std::function<std::string()> metrics;
  // Answers /console and /console/... (null: 404). Called on a worker thread.
  std::function<AdminReply(const AdminCall&)> console;
  // Decides, per request, whether its trace is recorded and exported (OTEL_TRACES_SAMPLER);
  // null: tracing is off. Called on the request path: quick and safe from every worker.
  std::function<bool(const TraceContext&)> trace_sampler;
  // Whether what the gateway depends on is there (the key store open); GET /ready answers 503
  // when it says no. Null: always.
  std::function<bool()> ready;
  // Set by stop(); shared by every listener of one process (copied options share it), so the
  // metrics port's /ready turns 503 while the gateway's listener drains.
  std::shared_ptr<std::atomic<bool>> draining = std::make_shared<std::atomic<bool>>(false);
};

// The gateway: N worker threads, each with its own event loop, acceptor (SO_REUSEPORT) and
// upstream connection pool. Used by main() and by in-process integration tests.
class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const ProviderRegistry> registry);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the workers; throws std::runtime_error when the address cannot be bound.
  void start();
  // The bound port (useful when options.port was 0).
  unsigned short port() const;
  // Stops accepting, lets in-flight requests and streams finish for up to shutdown_grace, then
  // closes what is left. Safe to call from any thread, and more than once.
  void stop();
  // Blocks until every worker has finished.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico
