#include "portico/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/thread_pool.hpp>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "portico/custom_host_policy.hpp"
#include "portico/encoding.hpp"
#include "server/session.hpp"

namespace portico {
namespace {

void logException(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("worker task ended by exception: {}", ex.what());
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::shared_ptr<const ProviderRegistry> registry;
  CustomHostPolicy host_policy;
  RouteContextOptions route_options;
  // The TLS context, response cache, buffer budget and observers every worker shares.
  // Declared before the workers, so it outlives them.
  std::unique_ptr<proxy::SharedResources> shared;
  std::vector<std::unique_ptr<server::Worker>> workers;
  // Runs the admin API's handler, whose store work (SQLite, Postgres) must not hold up a
  // worker. Declared after the workers: joined before their event loops go.
  std::unique_ptr<net::thread_pool> admin_pool;
  std::vector<std::thread> threads;
  unsigned short port = 0;
  std::once_flag stop_once;

  Impl(ServerOptions opts, std::shared_ptr<const ProviderRegistry> reg)
      : options(std::move(opts)),
        registry(std::move(reg)),
        host_policy(options.trusted_custom_hosts.empty() ? CustomHostPolicy::defaultTrustedHosts()
                                                         : options.trusted_custom_hosts) {
    route_options.config = configParseOptions(*registry);
    route_options.config.is_valid_custom_host = [this](std::string_view url) {
      // Clients repeat the same few custom hosts; remember verdicts per worker thread (the
      // policy never changes while the server runs).
      thread_local std::unordered_map<std::string, bool> verdicts;
      constexpr std::size_t kMaxRemembered = 256;
      if (auto it = verdicts.find(std::string(url)); it != verdicts.end()) {
        return it->second;
      }
      if (verdicts.size() >= kMaxRemembered) {
        verdicts.clear();
      }
      bool allowed = host_policy.isAllowed(url);
      verdicts.emplace(std::string(url), allowed);
      return allowed;
    };
    route_options.make_trace_id = &randomUuid;
  }

  void bind(server::Worker& worker, unsigned short bind_port) {
    auto address = net::ip::make_address(options.host);
    tcp::endpoint endpoint(address, bind_port);
    auto& acceptor = worker.acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    // Every worker accepts on the same port; the kernel spreads connections among them.
    int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
  }

  // Runs on a worker's thread: stop accepting, close idle keep-alive connections, and close
  // whatever is still open when the grace period ends.
  static Awaitable<void> drain(server::Worker& worker, std::chrono::milliseconds grace) {
    worker.draining = true;
    beast::error_code ignored;
    worker.acceptor.close(ignored);
    for (auto* entry : worker.sessions) {
      if (!entry->busy) {
        entry->stream->cancel();
      }
    }
    SteadyTimer timer(worker.ioc);
    const auto until = std::chrono::steady_clock::now() + grace;
    while (!worker.sessions.empty() && std::chrono::steady_clock::now() < until) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kUseTuple);
      for (auto* entry : worker.sessions) {
        if (!entry->busy) {
          entry->stream->cancel();
        }
      }
    }
    for (auto* entry : worker.sessions) {
      entry->stream->close();
    }
    worker.gateway.closeIdleConnections();
  }
};

Server::Server(ServerOptions options, std::shared_ptr<const ProviderRegistry> registry)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(registry))) {}

Server::~Server() {
  stop();
  wait();
}

void Server::start() {
  auto& impl = *impl_;
  impl.shared = std::make_unique<proxy::SharedResources>(impl.options);
  int threads = impl.options.threads > 0 ? impl.options.threads
                                         : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);
  unsigned short port = impl.options.port;
  if (impl.options.admin) {
    impl.admin_pool = std::make_unique<net::thread_pool>(1);
  }
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_unique<server::Worker>(impl.options, *impl.registry, impl.route_options,
                                                   impl.host_policy, *impl.shared);
    try {
      impl.bind(*worker, port);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen on " + impl.options.host + ":" +
                               std::to_string(port) + ": " + e.what());
    }
    port = worker->acceptor.local_endpoint().port();
    worker->admin_pool = impl.admin_pool.get();
    impl.workers.push_back(std::move(worker));
  }
  impl.port = port;
  for (auto& worker : impl.workers) {
    net::co_spawn(worker->ioc, server::runListener(*worker), &logException);
    impl.threads.emplace_back([w = worker.get()] {
      for (;;) {
        try {
          w->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("event loop exception: {}", e.what());
        }
      }
    });
  }
}

unsigned short Server::port() const { return impl_->port; }

void Server::stop() {
  std::call_once(impl_->stop_once, [this] {
    if (impl_->options.draining) {
      impl_->options.draining->store(true);
    }
    for (auto& worker : impl_->workers) {
      net::co_spawn(worker->ioc, Impl::drain(*worker, impl_->options.shutdown_grace),
                    &logException);
    }
  });
}

void Server::wait() {
  for (auto& thread : impl_->threads) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

}  // namespace portico
