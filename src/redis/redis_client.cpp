#include "redis/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "portico/encoding.hpp"

namespace portico::redis {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// Commands awaiting an answer on one connection, past which new ones fail at once: a Redis
// that accepts but never answers must not grow the queue without bound.
constexpr std::size_t kMaxInFlight = 4096;
// Consecutive timeouts after which the connection is dropped (and its queue failed).
constexpr int kTimeoutsBeforeDrop = 2;
// Replies are ours (short arrays of integers); anything deeper or longer is not copied.
constexpr int kMaxReplyDepth = 4;
constexpr std::size_t kMaxReplyElements = 64;

Reply copyReply(const redisReply& raw, int depth) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      reply.type = raw.type == REDIS_REPLY_STRING   ? Reply::Type::kString
                   : raw.type == REDIS_REPLY_STATUS ? Reply::Type::kStatus
                                                    : Reply::Type::kError;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::kInteger;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::kArray;
      if (depth < kMaxReplyDepth) {
        for (std::size_t i = 0; i < raw.elements && i < kMaxReplyElements; ++i) {
          reply.elements.push_back(copyReply(*raw.element[i], depth + 1));
        }
      }
      break;
    default:
      break;
  }
  return reply;
}

}  // namespace

Script::Script(std::string source) : text(std::move(source)), sha1(sha1Hex(text)) {}

// An awaited command: the coroutine waits on the timer, which the reply cancels.
struct Client::Pending {
  explicit Pending(const net::any_io_executor& executor) : timer(executor) {}
  net::steady_timer timer;
  std::optional<Reply> reply;
  bool done = false;
};

// One hiredis context and the watch on its socket. Asio's waits are one-shot and hiredis's
// are standing (add until del), so each completed wait is re-armed while hiredis still wants it.
struct Client::Connection : std::enable_shared_from_this<Connection> {
  Connection(const net::any_io_executor& executor, Client& client)
      : socket(executor), owner(&client) {}

  net::posix::stream_descriptor socket;
  Client* owner;                         // null once the client is gone
  redisAsyncContext* context = nullptr;  // null once hiredis freed it
  bool want_read = false;
  bool want_write = false;
  bool read_armed = false;
  bool write_armed = false;
  bool ready = false;
  // Scripts sent in full on this connection: Redis has them from then on, so EVALSHA works.
  std::vector<const Script*> scripts;

  static Connection& of(void* privdata) { return *static_cast<Connection*>(privdata); }

  void armRead() {
    if (read_armed || context == nullptr) {
      return;
    }
    read_armed = true;
    socket.async_wait(net::posix::descriptor_base::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        self->read_armed = false;
                        if (ec || self->context == nullptr || !self->want_read) {
                          return;
                        }
                        redisAsyncHandleRead(self->context);  // may free the context
                        if (self->context != nullptr && self->want_read) {
                          self->armRead();
                        }
                      });
  }

  void armWrite() {
    if (write_armed || context == nullptr) {
      return;
    }
    write_armed = true;
    socket.async_wait(net::posix::descriptor_base::wait_write,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        self->write_armed = false;
                        if (ec || self->context == nullptr || !self->want_write) {
                          return;
                        }
                        redisAsyncHandleWrite(self->context);  // may free the context
                        if (self->context != nullptr && self->want_write) {
                          self->armWrite();
                        }
                      });
  }

  // hiredis's event hooks.
  static void addRead(void* privdata) {
    auto& self = of(privdata);
    self.want_read = true;
    self.armRead();
  }
  static void delRead(void* privdata) { of(privdata).want_read = false; }
  static void addWrite(void* privdata) {
    auto& self = of(privdata);
    self.want_write = true;
    self.armWrite();
  }
  static void delWrite(void* privdata) { of(privdata).want_write = false; }
  // hiredis is about to close the socket and free the context: stop watching the socket and
  // give it back without closing it (hiredis closes it).
  static void cleanup(void* privdata) {
    auto& self = of(privdata);
    const auto keep = self.shared_from_this();  // lost() may drop the client's reference
    self.context = nullptr;
    self.want_read = self.want_write = false;
    boost::system::error_code ignored;
    self.socket.cancel(ignored);
    self.socket.release();
    if (self.owner != nullptr) {
      self.owner->lost(self);
    }
  }

  static void onConnect(const redisAsyncContext* context, int status) {
    auto& self = of(context->data);
    if (self.owner == nullptr) {
      return;
    }
    if (status == REDIS_OK) {
      self.ready = true;
      self.owner->backoff_ = std::chrono::milliseconds(0);
    } else {
      self.owner->health_->failed("unavailable", context->errstr);
    }
  }

  // A fire-and-forget command's answer.
  static void onSent(redisAsyncContext* context, void* raw, void*) {
    auto& self = of(context->data);
    if (self.owner == nullptr) {
      return;
    }
    --self.owner->in_flight_;
    const auto* reply = static_cast<const redisReply*>(raw);
    if (reply == nullptr) {
      return;  // the connection went; the awaited commands report it
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      self.owner->health_->failed("error", std::string_view(reply->str, reply->len));
      spdlog::warn("redis refused a command: {}", std::string_view(reply->str, reply->len));
    }
  }

  // An awaited command's answer (null: the connection went before it came).
  static void onReply(redisAsyncContext* context, void* raw, void* privdata) {
    std::unique_ptr<std::shared_ptr<Pending>> holder(
        static_cast<std::shared_ptr<Pending>*>(privdata));
    auto& self = of(context->data);
    if (self.owner != nullptr) {
      --self.owner->in_flight_;
    }
    Pending& pending = **holder;
    if (const auto* reply = static_cast<const redisReply*>(raw)) {
      pending.reply = copyReply(*reply, 0);
    }
    pending.done = true;
    pending.timer.cancel();
  }
};

Client::Client(net::any_io_executor executor,
               Endpoint endpoint,
               std::chrono::milliseconds timeout,
               std::shared_ptr<Health> health)
    : executor_(std::move(executor)),
      endpoint_(std::move(endpoint)),
      timeout_(timeout),
      health_(std::move(health)) {}

Client::~Client() {
  *alive_ = false;
  if (connection_) {
    connection_->owner = nullptr;
    if (connection_->context != nullptr) {
      redisAsyncFree(connection_->context);  // ends every waiting command with no answer
    }
  }
}

bool Client::connected() const { return connection_ && connection_->ready; }

void Client::close() {
  closed_ = true;
  if (connection_ && connection_->context != nullptr) {
    redisAsyncFree(connection_->context);  // cleanup() resets connection_
  }
  connection_.reset();
}

void Client::connect() {
  if (closed_ || connection_ || resolving_ || Clock::now() < retry_at_) {
    return;
  }
  boost::system::error_code ec;
  const auto address = net::ip::make_address(endpoint_.host, ec);
  if (!ec) {
    startConnect(address.to_string());
    return;
  }
  resolveAndConnect();
}

// A host name is resolved by Asio off the thread (hiredis would block on getaddrinfo);
// commands fail fast until the connection is up.
void Client::resolveAndConnect() {
  resolving_ = true;
  auto resolver = std::make_shared<tcp::resolver>(executor_);
  resolver->async_resolve(
      endpoint_.host, std::to_string(endpoint_.port),
      [this, resolver, alive = alive_](const boost::system::error_code& ec,
                                       const tcp::resolver::results_type& results) {
        if (!*alive) {
          return;
        }
        resolving_ = false;
        if (ec || results.empty()) {
          health_->failed("unavailable", "cannot resolve " + endpoint_.host);
          backOff();
          return;
        }
        startConnect(results.begin()->endpoint().address().to_string());
      });
}

void Client::startConnect(const std::string& address) {
  redisAsyncContext* context = redisAsyncConnect(address.c_str(), endpoint_.port);
  if (context == nullptr || context->err != 0) {
    health_->failed("unavailable", context != nullptr ? context->errstr : "out of memory");
    if (context != nullptr) {
      redisAsyncFree(context);
    }
    backOff();
    return;
  }
  auto connection = std::make_shared<Connection>(executor_, *this);
  connection->context = context;
  boost::system::error_code ec;
  connection->socket.assign(context->c.fd, ec);
  if (ec) {
    health_->failed("unavailable", ec.message());
    connection->socket.release();
    redisAsyncFree(context);
    backOff();
    return;
  }
  context->data = connection.get();
  context->ev.data = connection.get();
  context->ev.addRead = &Connection::addRead;
  context->ev.delRead = &Connection::delRead;
  context->ev.addWrite = &Connection::addWrite;
  context->ev.delWrite = &Connection::delWrite;
  context->ev.cleanup = &Connection::cleanup;
  redisAsyncSetConnectCallback(context, &Connection::onConnect);
  connection_ = std::move(connection);
  // Queued until the socket connects; the first of them also makes hiredis watch for that.
  if (!endpoint_.password.empty()) {
    if (endpoint_.user.empty()) {
      send({"AUTH", endpoint_.password});
    } else {
      send({"AUTH", endpoint_.user, endpoint_.password});
    }
  }
  send(endpoint_.db != 0 ? std::vector<std::string>{"SELECT", std::to_string(endpoint_.db)}
                         : std::vector<std::string>{"PING"});
}

// hiredis freed the connection (an error, Redis closed it, or we dropped it).
void Client::lost(Connection& connection) {
  if (connection_.get() != &connection) {
    return;
  }
  if (!connection.ready) {
    backOff();  // never connected: Redis is not there
  }
  connection.owner = nullptr;
  in_flight_ = 0;
  connection_.reset();
}

void Client::dropConnection() {
  if (connection_ && connection_->context != nullptr) {
    redisAsyncFree(connection_->context);  // cleanup() resets connection_
  }
  connection_.reset();
  backOff();
}

void Client::backOff() {
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  retry_at_ = Clock::now() + backoff_;
}

bool Client::submit(const std::vector<std::string>& args, std::shared_ptr<Pending> pending) {
  connect();
  if (!connection_ || connection_->context == nullptr || in_flight_ >= kMaxInFlight) {
    return false;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  int rc = REDIS_ERR;
  if (pending) {
    auto* holder = new std::shared_ptr<Pending>(std::move(pending));
    rc = redisAsyncCommandArgv(connection_->context, &Connection::onReply, holder,
                               static_cast<int>(argv.size()), argv.data(), lengths.data());
    if (rc != REDIS_OK) {
      delete holder;
    }
  } else {
    rc = redisAsyncCommandArgv(connection_->context, &Connection::onSent, nullptr,
                               static_cast<int>(argv.size()), argv.data(), lengths.data());
  }
  if (rc != REDIS_OK) {
    return false;
  }
  ++in_flight_;
  return true;
}

Awaitable<std::optional<Reply>> Client::call(std::vector<std::string> args) {
  auto pending = std::make_shared<Pending>(executor_);
  if (!submit(args, pending)) {
    if (!closed_) {
      health_->failed("unavailable", "not connected");
    }
    co_return std::nullopt;
  }
  pending->timer.expires_after(timeout_);
  auto waited = co_await pending->timer.async_wait(kUseTuple);
  (void)waited;
  if (!pending->done) {
    health_->failed("timeout", "no answer within the timeout");
    if (++consecutive_timeouts_ >= kTimeoutsBeforeDrop) {
      consecutive_timeouts_ = 0;
      dropConnection();
    }
    co_return std::nullopt;
  }
  if (!pending->reply) {
    health_->failed("unavailable", "connection lost");
    co_return std::nullopt;
  }
  consecutive_timeouts_ = 0;
  if (pending->reply->isError()) {
    health_->failed("error", pending->reply->text);
  } else {
    health_->succeeded();
  }
  co_return std::move(pending->reply);
}

std::vector<std::string> Client::evalArgs(const char* verb,
                                          const std::string& script,
                                          std::vector<std::string> keys,
                                          std::vector<std::string> args) {
  std::vector<std::string> argv;
  argv.reserve(2 + keys.size() + args.size());
  argv.emplace_back(verb);
  argv.push_back(script);
  argv.push_back(std::to_string(keys.size()));
  for (auto& key : keys) {
    argv.push_back(std::move(key));
  }
  for (auto& arg : args) {
    argv.push_back(std::move(arg));
  }
  return argv;
}

// Whether this connection has sent `script` in full; if not, marks it sent (the caller sends
// it now, and Redis runs commands in order, so what follows may use its SHA-1).
bool Client::firstUseOf(const Script& script) {
  connect();
  if (!connection_) {
    return true;
  }
  auto& scripts = connection_->scripts;
  if (std::find(scripts.begin(), scripts.end(), &script) != scripts.end()) {
    return false;
  }
  scripts.push_back(&script);
  return true;
}

Awaitable<std::optional<Reply>> Client::eval(const Script& script,
                                             std::vector<std::string> keys,
                                             std::vector<std::string> args) {
  if (!firstUseOf(script)) {
    auto by_sha = co_await call(evalArgs("EVALSHA", script.sha1, keys, args));
    // NOSCRIPT: someone flushed Redis's script cache.
    if (!by_sha || !by_sha->isError() || !by_sha->text.starts_with("NOSCRIPT")) {
      co_return by_sha;
    }
  }
  auto in_full = co_await call(evalArgs("EVAL", script.text, std::move(keys), std::move(args)));
  co_return in_full;
}

void Client::send(const std::vector<std::string>& args) {
  if (!submit(args, nullptr) && !closed_) {
    health_->failed("unavailable", "not connected");
  }
}

void Client::sendEval(const Script& script,
                      const std::vector<std::string>& keys,
                      const std::vector<std::string>& args) {
  const bool first = firstUseOf(script);
  send(evalArgs(first ? "EVAL" : "EVALSHA", first ? script.text : script.sha1, keys, args));
}

}  // namespace portico::redis
