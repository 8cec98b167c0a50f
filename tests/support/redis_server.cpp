#include "support/redis_server.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"

extern char** environ;

namespace portico::testing {
namespace {

constexpr const char* kBinary = "/usr/bin/redis-server";
constexpr const char* kSetpriv = "/usr/bin/setpriv";

unsigned short freeLoopbackPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::string replyText(const redisReply* reply) {
  if (reply == nullptr) {
    return "(no reply)";
  }
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string text;
      for (std::size_t i = 0; i < reply->elements; ++i) {
        text += (i > 0 ? " " : "") + replyText(reply->element[i]);
      }
      return text;
    }
    default:
      return std::string(reply->str, reply->len);
  }
}

}  // namespace

bool RedisServer::available() { return ::access(kBinary, X_OK) == 0; }

RedisServer::RedisServer(std::string password)
    : port_(freeLoopbackPort()),
      dir_(uniqueTempPath("redis").string()),
      password_(std::move(password)) {
  std::filesystem::create_directories(dir_);
  start();
}

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    resume();
    stop();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::start() {
  std::vector<std::string> args = {kBinary, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", dir_, "--daemonize",
                                   "no", "--loglevel", "warning", "--logfile", dir_ + "/redis.log",
                                   // DEBUG SLEEP plays a Redis busy past a client's deadline.
                                   "--enable-debug-command", "local"};
  if (!password_.empty()) {
    args.insert(args.end(), {"--requirepass", password_});
  }
  // setpriv execs redis-server itself (the pid is the server's) with a parent-death signal,
  // so a test that crashes does not leave a server behind.
  if (::access(kSetpriv, X_OK) == 0) {
    args.insert(args.begin(), {kSetpriv, "--pdeathsig", "KILL", "--"});
  }
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  // Its output goes to a file, not to the test's: ctest waits for every holder of its pipe.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string output = dir_ + "/redis.out";
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot start redis-server");
  }
  pid_ = pid;
  // Polls until it answers, for at most 10 s.
  for (int i = 0; i < 400; ++i) {
    if (command("PING") == "PONG") {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  stop();
  throw std::runtime_error("redis-server did not answer on port " + std::to_string(port_));
}

void RedisServer::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::pause() {
  if (pid_ > 0) {
    ::kill(pid_, SIGSTOP);
  }
}

void RedisServer::resume() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
  }
}

std::string RedisServer::command(const std::string& line) const {
  const timeval timeout{1, 0};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (context == nullptr || context->err != 0) {
    if (context != nullptr) {
      redisFree(context);
    }
    return "(unreachable)";
  }
  redisSetTimeout(context, timeout);
  if (!password_.empty()) {
    if (auto* auth =
            static_cast<redisReply*>(redisCommand(context, "AUTH %s", password_.c_str()))) {
      freeReplyObject(auth);
    }
  }
  auto* reply = static_cast<redisReply*>(redisCommand(context, line.c_str()));
  std::string text = replyText(reply);
  if (reply != nullptr) {
    freeReplyObject(reply);
  }
  redisFree(context);
  return text;
}

}  // namespace portico::testing
