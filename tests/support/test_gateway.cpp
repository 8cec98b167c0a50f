#include "support/test_gateway.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "portico/provider_registry.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"

extern char** environ;

namespace portico::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;

ServerOptions TestGateway::defaultOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.ca_file = testCaFile();
  options.access_log = false;
  options.shutdown_grace = std::chrono::seconds(5);
  return options;
}

TestGateway::TestGateway(ServerOptions options) {
  auto registry = std::make_shared<ProviderRegistry>();
  registerBuiltinProviders(*registry);
  server_ = std::make_unique<Server>(std::move(options), std::move(registry));
  server_->start();
}

TestGateway::~TestGateway() {
  server_->stop();
  server_->wait();
}

namespace {

unsigned short freePort() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace

GatewayProcess::GatewayProcess(std::vector<std::string> args) {
  port_ = freePort();
  log_path_ =
      "/tmp/portico-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log";
  std::vector<std::string> argv_storage = {kGatewayBinaryPath, "--port", std::to_string(port_),
                                           "--ca-file", testCaFile()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + std::string(argv[0]));
  }
  pid_ = pid;
  for (int i = 0; i < 200; ++i) {
    try {
      if (httpRequest(port_, "GET", "/", {}, "", std::chrono::seconds(1)).status == 200) {
        return;
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  terminate();
  throw std::runtime_error("portico did not start: " + output());
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) {
    terminate();
  }
  std::remove(log_path_.c_str());
}

int GatewayProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string GatewayProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace portico::testing
