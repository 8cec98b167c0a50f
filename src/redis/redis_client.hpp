#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net.hpp"
#include "redis/redis_health.hpp"
#include "redis/redis_reply.hpp"
#include "redis/redis_url.hpp"

namespace portico::redis {

// A Lua script, run by its SHA-1 (EVALSHA) and sent in full only when Redis does not have it
// (first use, or Redis restarted).
struct Script {
  explicit Script(std::string source);
  std::string text;
  std::string sha1;
};

// One worker's connection to the shared Redis: hiredis's async API driven by the worker's own
// event loop (its socket watched by Asio), so a command never blocks the thread and needs no
// lock. Commands pipeline on the one connection. Every awaited command has a deadline; a Redis
// that is down, refuses connections or stops answering makes commands end with nullopt at once
// or after `timeout`, never hang a request. After a failure the client waits a backoff (50 ms,
// doubling to 1 s) before it connects again, failing commands fast meanwhile, so an outage
// costs requests no latency and a Redis that comes back is used within a second.
//
// Only for the thread that runs `executor`.
class Client;

// Called with an answer that came after its command's deadline (the caller had given up), on
// the worker's thread, so it can undo what the command did (a reservation nobody will settle).
using LateReply = std::function<void(Client&, const Reply&)>;

class Client {
 public:
  Client(net::any_io_executor executor,
         Endpoint endpoint,
         std::chrono::milliseconds timeout,
         std::shared_ptr<Health> health);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects now unless connected or backing off (the worker calls it at start; commands do).
  void connect();
  // The answer (a Redis error is a Reply of type kError), or nullopt when none came in time.
  Awaitable<std::optional<Reply>> call(std::vector<std::string> args, LateReply late = {});
  // Runs a script: in full (EVAL) the first time on this connection, then by SHA-1 (EVALSHA,
  // again in full should Redis answer NOSCRIPT).
  Awaitable<std::optional<Reply>> eval(const Script& script,
                                       std::vector<std::string> keys,
                                       std::vector<std::string> args,
                                       LateReply late = {});
  // Sends without waiting for the answer (settling a reservation, storing a cache entry); lost
  // when Redis is down. A script goes in full the first time on each connection.
  void send(const std::vector<std::string>& args);
  void sendEval(const Script& script,
                const std::vector<std::string>& keys,
                const std::vector<std::string>& args);

  // Closes the connection for good (the worker is shutting down): later commands fail at once,
  // quietly, and nothing reconnects.
  void close();

  bool connected() const;
  std::size_t inFlight() const { return in_flight_; }

 private:
  struct Connection;
  struct Pending;
  friend struct Connection;

  bool submit(const std::vector<std::string>& args, std::shared_ptr<Pending> pending);
  bool knows(const Script& script) const;
  void remember(const Script& script);
  void login(const std::vector<std::string>& args, bool last);
  void startConnect(const std::string& address);
  void resolveAndConnect();
  void lost(Connection& connection);
  void dropConnection();
  void backOff();
  static std::vector<std::string> evalArgs(const char* verb,
                                           const std::string& script,
                                           std::vector<std::string> keys,
                                           std::vector<std::string> args);

  net::any_io_executor executor_;
  Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<Health> health_;
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for the resolver's callback
  std::shared_ptr<tcp::resolver> resolver_;
  bool resolving_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  int consecutive_timeouts_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t queued_send_bytes_ = 0;
  int in_callback_ = 0;  // inside hiredis's callback: the context must not be freed now
};

}  // namespace portico::redis
