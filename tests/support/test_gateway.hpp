#pragma once

// The gateway for integration tests: in-process on 127.0.0.1:0 with every built-in provider,
// trusting the test CA for upstream TLS. No Beast here.

#include <memory>
#include <string>

#include "portico/server.hpp"

namespace portico::testing {

class TestGateway {
 public:
  explicit TestGateway(ServerOptions options = defaultOptions());
  ~TestGateway();
  unsigned short port() const { return server_->port(); }
  Server& server() { return *server_; }
  static ServerOptions defaultOptions();

 private:
  std::unique_ptr<Server> server_;
};

// The portico binary started as a child process, for end-to-end tests.
class GatewayProcess {
 public:
  // Starts the binary with `args` (plus --port of a free port) and waits until it answers.
  explicit GatewayProcess(std::vector<std::string> args = {});
  ~GatewayProcess();
  unsigned short port() const { return port_; }
  int pid() const { return pid_; }
  // Sends SIGTERM and returns the exit status (waits up to `timeout`, then SIGKILLs: -1).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // What the process wrote to stdout and stderr so far.
  std::string output() const;

 private:
  int pid_ = -1;
  unsigned short port_ = 0;
  std::string log_path_;
};

}  // namespace portico::testing
