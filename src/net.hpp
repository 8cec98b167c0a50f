#pragma once

// Namespace aliases and the I/O object types Portico uses everywhere: every asynchronous
// operation completes as a tuple (error_code first), so the data path never throws. Beast's
// HTTP types are not here: only src/http/ and src/upstream/ include them (http/beast_http.hpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>

namespace portico {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

template <class T>
using Awaitable = net::awaitable<T>;

}  // namespace portico
