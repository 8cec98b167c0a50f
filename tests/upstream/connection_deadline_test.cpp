// The one-timer-per-connection deadline over a real loopback connection: a read that outlasts
// its deadline is cancelled and reads as a timeout; one whose deadline moved later, or was
// cleared, is not.
#include "connection_deadline.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "support/run_awaitable.hpp"

namespace portico {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Pair {
  explicit Pair(net::io_context& ioc)
      : acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}), near(ioc), far(ioc) {
    near.socket().connect(acceptor.local_endpoint());
    far = acceptor.accept();
  }
  tcp::acceptor acceptor;
  TcpStream near;
  tcp::socket far;
};

struct ReadEnd {
  beast::error_code ec;
  std::size_t bytes = 0;
  Clock::duration took{};
};

// One read on `stream`, reported with the deadline's reading of how it ended.
Awaitable<ReadEnd> readOnce(TcpStream& stream, ConnectionDeadline& deadline) {
  char byte[8];
  const auto started = Clock::now();
  auto [ec, n] = co_await stream.async_read_some(net::buffer(byte), kUseTuple);
  co_return ReadEnd{deadline.reason(ec), n, Clock::now() - started};
}

// After `after`, runs `step` on the loop.
void at(net::io_context& ioc, std::chrono::milliseconds after, std::function<void()> step) {
  auto timer = std::make_shared<SteadyTimer>(ioc, after);
  timer->async_wait([timer, step = std::move(step)](const beast::error_code&) { step(); });
}

TEST(ConnectionDeadline, AReadPastItsDeadlineEndsAsATimeout) {
  net::io_context ioc;
  Pair pair(ioc);
  ConnectionDeadline deadline(pair.near);
  deadline.expiresAfter(50ms);
  auto end = testing::runAwaitable(ioc, readOnce(pair.near, deadline), 5s);
  EXPECT_EQ(end.ec, beast::error::timeout);
  EXPECT_TRUE(deadline.expired());
  EXPECT_GE(end.took, 45ms);
}

TEST(ConnectionDeadline, ADeadlineMovedLaterDoesNotCutTheRead) {
  net::io_context ioc;
  Pair pair(ioc);
  ConnectionDeadline deadline(pair.near);
  deadline.expiresAfter(40ms);
  at(ioc, 10ms, [&] { deadline.expiresAfter(2s); });
  at(ioc, 100ms, [&] { net::write(pair.far, net::buffer("x", 1)); });
  auto end = testing::runAwaitable(ioc, readOnce(pair.near, deadline), 5s);
  EXPECT_FALSE(end.ec) << end.ec.message();
  EXPECT_EQ(end.bytes, 1u);
  EXPECT_FALSE(deadline.expired());
}

TEST(ConnectionDeadline, ASoonerDeadlineFiresSooner) {
  net::io_context ioc;
  Pair pair(ioc);
  ConnectionDeadline deadline(pair.near);
  deadline.expiresAfter(10s);
  deadline.expiresAfter(50ms);
  auto end = testing::runAwaitable(ioc, readOnce(pair.near, deadline), 5s);
  EXPECT_EQ(end.ec, beast::error::timeout);
  EXPECT_LT(end.took, 5s);
}

TEST(ConnectionDeadline, AClearedDeadlineLeavesTheReadAlone) {
  net::io_context ioc;
  Pair pair(ioc);
  ConnectionDeadline deadline(pair.near);
  deadline.expiresAfter(30ms);
  deadline.never();
  at(ioc, 120ms, [&] { net::write(pair.far, net::buffer("y", 1)); });
  auto end = testing::runAwaitable(ioc, readOnce(pair.near, deadline), 5s);
  EXPECT_FALSE(end.ec) << end.ec.message();
  EXPECT_EQ(end.bytes, 1u);
}

TEST(ConnectionDeadline, ACancellationThatIsNotTheDeadlineStaysOne) {
  net::io_context ioc;
  Pair pair(ioc);
  ConnectionDeadline deadline(pair.near);
  deadline.expiresAfter(10s);
  at(ioc, 20ms, [&] { pair.near.cancel(); });
  auto end = testing::runAwaitable(ioc, readOnce(pair.near, deadline), 5s);
  EXPECT_EQ(end.ec, net::error::operation_aborted);
  EXPECT_FALSE(deadline.expired());
}

}  // namespace
}  // namespace portico
