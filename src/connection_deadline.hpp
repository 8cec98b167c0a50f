#pragma once

#include <chrono>
#include <memory>

#include "net.hpp"

namespace portico {

// One timer per connection instead of Beast's timer per operation: setting a deadline is a
// store, and the timer is only re-armed when it fires early (the deadline moved later) or must
// fire sooner. When a deadline passes, the stream's pending operations are cancelled and
// expired() says why they ended (callers read operation_aborted then as a timeout).
class ConnectionDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ConnectionDeadline(TcpStream& stream);
  ~ConnectionDeadline();
  ConnectionDeadline(const ConnectionDeadline&) = delete;
  ConnectionDeadline& operator=(const ConnectionDeadline&) = delete;

  void expiresAt(Clock::time_point at);
  void expiresAfter(std::chrono::milliseconds after) { expiresAt(Clock::now() + after); }
  void never();
  // never(), and the timer's wait ended too: for a connection that goes idle in a pool, so
  // nothing keeps its event loop running.
  void stop();
  // The last deadline set passed and cancelled the stream's operations.
  bool expired() const;
  // `ec`, or beast::error::timeout when this deadline is what aborted the operation.
  beast::error_code reason(const beast::error_code& ec) const;

 private:
  struct State;
  static void waitFor(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace portico
