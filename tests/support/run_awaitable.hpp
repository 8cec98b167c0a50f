#pragma once

// Runs one coroutine on an io_context from a test's thread and returns its result. The loop
// runs in bounded slices until the coroutine ends (objects such as a Redis client keep socket
// waits pending, so run() alone would not return); a coroutine that has not ended after
// `limit` fails the test with an exception.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

#include "net.hpp"

namespace portico::testing {

template <class T>
T runAwaitable(net::io_context& ioc,
               Awaitable<T> task,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<T> result;
  std::exception_ptr failure;
  bool done = false;
  net::co_spawn(ioc, std::move(task), [&](std::exception_ptr error, T value) {
    failure = error;
    if (!error) {
      result.emplace(std::move(value));
    }
    done = true;
  });
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < until) {
    ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(50));
  }
  if (!done) {
    throw std::runtime_error("the coroutine did not finish in time");
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
  return std::move(*result);
}

// Lets the loop run its handlers (late replies, reconnects) for `duration`, idle or not.
inline void runFor(net::io_context& ioc, std::chrono::milliseconds duration) {
  net::steady_timer timer(ioc, duration);
  bool fired = false;
  timer.async_wait([&fired](const boost::system::error_code&) { fired = true; });
  ioc.restart();
  while (!fired) {
    ioc.run_one();
  }
}

}  // namespace portico::testing
