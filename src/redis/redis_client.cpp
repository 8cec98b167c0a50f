#include "redis/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>

#include "portico/encoding.hpp"

namespace portico::redis {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// Commands awaiting an answer on one connection, past which new ones fail at once: a Redis
// that accepts but never answers must not grow the queue without bound.
constexpr std::size_t kMaxInFlight = 4096;
// Bytes of fire-and-forget commands (cache entries, mostly) queued on one connection: a stalled
// Redis must not make the gateway hold gigabytes of unsent cache writes.
constexpr std::size_t kMaxQueuedSendBytes = 64 * 1024 * 1024;
// Consecutive timeouts after which the connection is dropped (and its queue failed).
constexpr int kTimeoutsBeforeDrop = 2;
// Replies are ours (short arrays of integers); anything deeper or longer is not copied.
constexpr int kMaxReplyDepth = 4;
constexpr std::size_t kMaxReplyElements = 64;

// Errors that say this Redis cannot serve us now (a login, a replica, a restart, memory), as
// opposed to one command being wrong: they count as an outage.
bool unavailableError(std::string_view text) {
  for (std::string_view prefix : {"NOAUTH", "WRONGPASS", "NOPERM", "READONLY", "LOADING",
                                  "MASTERDOWN", "BUSY", "OOM", "CLUSTERDOWN"}) {
    if (text.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

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
  bool abandoned = false;  // the caller stopped waiting (its deadline passed)
  LateReply late;          // told about an answer that came after that
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
  bool ready = false;     // the socket connected
  bool answered = false;  // the login (AUTH, SELECT or PING) was answered: Redis serves us
  bool refused = false;   // the login was refused: dropped at the next command
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
    } else {
      self.owner->health_->failed("unavailable", context->errstr);
    }
  }

  // The answer to a login command (AUTH, SELECT, PING); `privdata` non-null on the last one.
  static void onLogin(redisAsyncContext* context, void* raw, void* privdata) {
    auto& self = of(context->data);
    const auto* reply = static_cast<const redisReply*>(raw);
    if (self.owner == nullptr || reply == nullptr) {
      return;
    }
    --self.owner->in_flight_;
    if (reply->type == REDIS_REPLY_ERROR) {
      // Redis's text never holds the password.
      self.refused = true;
      self.owner->health_->failed("unavailable",
                                  "login refused: " + std::string(reply->str, reply->len));
    } else if (privdata != nullptr && !self.refused) {
      self.answered = true;
      self.owner->backoff_ = std::chrono::milliseconds(0);
    }
  }

  // A fire-and-forget command's answer; `privdata` carries its size in bytes.
  static void onSent(redisAsyncContext* context, void* raw, void* privdata) {
    auto& self = of(context->data);
    if (self.owner == nullptr) {
      return;
    }
    Client& owner = *self.owner;
    --owner.in_flight_;
    owner.queued_send_bytes_ -=
        std::min(owner.queued_send_bytes_, reinterpret_cast<std::uintptr_t>(privdata));
    const auto* reply = static_cast<const redisReply*>(raw);
    if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) {
      return;  // null: the connection went; the awaited commands report it
    }
    const std::string_view text(reply->str, reply->len);
    if (text.starts_with("NOSCRIPT")) {
      self.scripts.clear();  // Redis lost its scripts: the next use sends them in full
    }
    owner.health_->failed(unavailableError(text) ? "unavailable" : "error", text);
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
    if (pending.abandoned && pending.late && pending.reply && self.owner != nullptr) {
      ++self.owner->in_callback_;
      pending.late(*self.owner, *pending.reply);
      --self.owner->in_callback_;
    }
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
  if (resolver_) {
    resolver_->cancel();
  }
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
  resolver_ = std::make_shared<tcp::resolver>(executor_);
  resolver_->async_resolve(
      endpoint_.host, std::to_string(endpoint_.port),
      [this, resolver = resolver_, alive = alive_](const boost::system::error_code& ec,
                                                   const tcp::resolver::results_type& results) {
        if (!*alive || closed_) {
          return;  // gone, or shutting down: no new connection
        }
        resolving_ = false;
        resolver_.reset();
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
      login({"AUTH", endpoint_.password}, false);
    } else {
      login({"AUTH", endpoint_.user, endpoint_.password}, false);
    }
  }
  login(endpoint_.db != 0 ? std::vector<std::string>{"SELECT", std::to_string(endpoint_.db)}
                          : std::vector<std::string>{"PING"},
        true);
}

void Client::login(const std::vector<std::string>& args, bool last) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  static int marker = 0;  // any non-null pointer: "the last login command"
  if (redisAsyncCommandArgv(connection_->context, &Connection::onLogin, last ? &marker : nullptr,
                            static_cast<int>(argv.size()), argv.data(),
                            lengths.data()) == REDIS_OK) {
    ++in_flight_;
  }
}

// hiredis freed the connection (an error, Redis closed it, or we dropped it).
void Client::lost(Connection& connection) {
  if (connection_.get() != &connection) {
    return;
  }
  if (!connection.answered) {
    backOff();  // Redis never served this connection: not there, or it refuses us
  }
  connection.owner = nullptr;
  in_flight_ = 0;
  queued_send_bytes_ = 0;
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
  if (connection_ && connection_->refused && in_callback_ == 0) {
    dropConnection();  // a refused login: try again after the backoff
  }
  connect();
  if (!connection_ || connection_->context == nullptr || connection_->refused ||
      in_flight_ >= kMaxInFlight) {
    return false;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  std::size_t bytes = 0;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
    bytes += arg.size();
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
    if (queued_send_bytes_ + bytes > kMaxQueuedSendBytes) {
      return false;
    }
    rc = redisAsyncCommandArgv(connection_->context, &Connection::onSent,
                               reinterpret_cast<void*>(static_cast<std::uintptr_t>(bytes)),
                               static_cast<int>(argv.size()), argv.data(), lengths.data());
    if (rc == REDIS_OK) {
      queued_send_bytes_ += bytes;
    }
  }
  if (rc != REDIS_OK) {
    return false;
  }
  ++in_flight_;
  return true;
}

Awaitable<std::optional<Reply>> Client::call(std::vector<std::string> args, LateReply late) {
  auto pending = std::make_shared<Pending>(executor_);
  pending->late = std::move(late);
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
    pending->abandoned = true;
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
    const std::string& text = pending->reply->text;
    if (unavailableError(text)) {
      health_->failed("unavailable", text);
      co_return std::nullopt;  // this Redis cannot serve us: as good as no answer
    }
    health_->failed("error", text);
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

// Whether this connection has sent `script` in full (Redis then has it).
bool Client::knows(const Script& script) const {
  return connection_ && std::find(connection_->scripts.begin(), connection_->scripts.end(),
                                  &script) != connection_->scripts.end();
}

void Client::remember(const Script& script) {
  if (connection_ && !knows(script)) {
    connection_->scripts.push_back(&script);
  }
}

Awaitable<std::optional<Reply>> Client::eval(const Script& script,
                                             std::vector<std::string> keys,
                                             std::vector<std::string> args,
                                             LateReply late) {
  connect();
  if (knows(script)) {
    auto by_sha = co_await call(evalArgs("EVALSHA", script.sha1, keys, args), late);
    // NOSCRIPT: someone flushed Redis's script cache.
    if (!by_sha || !by_sha->isError() || !by_sha->text.starts_with("NOSCRIPT")) {
      co_return by_sha;
    }
  }
  auto in_full = co_await call(evalArgs("EVAL", script.text, std::move(keys), std::move(args)),
                               std::move(late));
  if (in_full && !in_full->text.starts_with("NOSCRIPT")) {
    remember(script);
  }
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
  connect();
  const bool known = knows(script);
  const bool sent = submit(
      evalArgs(known ? "EVALSHA" : "EVAL", known ? script.sha1 : script.text, keys, args), nullptr);
  if (sent && !known) {
    remember(script);  // Redis runs a connection's commands in order: what follows may use it
  } else if (!sent && !closed_) {
    health_->failed("unavailable", "not connected");
  }
}

}  // namespace portico::redis
