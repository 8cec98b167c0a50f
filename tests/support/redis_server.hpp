#pragma once

// A real redis-server (Debian's package) for tests: started on a free loopback port in a fresh
// temp dir, with no persistence, and stopped (its dir removed) by the destructor. stop() and
// start() again on the same port play an outage; pause() and resume() play a Redis that
// accepts connections but does not answer (SIGSTOP / SIGCONT).

#include <string>

namespace portico::testing {

class RedisServer {
 public:
  // `password`: requirepass (AUTH needed); "" for none.
  explicit RedisServer(std::string password = "");
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // False when redis-server is not installed (tests then skip, saying so).
  static bool available();

  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // The same with the password in it (or any other).
  std::string urlWithPassword(const std::string& password) const {
    return "redis://:" + password + "@127.0.0.1:" + std::to_string(port_);
  }

  void start();  // waits (bounded) until it answers PING; throws if it does not
  void stop();   // SIGTERM and wait
  void pause();
  void resume();
  // One command through a blocking connection (hiredis), for tests to look at or set state:
  // the reply as text (integers in decimal, nil as "(nil)", errors as "ERR ...").
  std::string command(const std::string& line) const;

 private:
  unsigned short port_ = 0;
  int pid_ = -1;
  std::string dir_;
  std::string password_;
};

}  // namespace portico::testing
