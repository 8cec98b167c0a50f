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

// One concrete executor type, the worker's io_context's: Asio's type-erased any_io_executor
// costs a copy and an indirect call at every operation, handler and coroutine resumption.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Resolver = net::ip::basic_resolver<tcp, Executor>;
using SteadyTimer = net::basic_waitable_timer<std::chrono::steady_clock,
                                              net::wait_traits<std::chrono::steady_clock>,
                                              Executor>;
using TcpStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable_t<Executor>{});

template <class T>
using Awaitable = net::awaitable<T, Executor>;

}  // namespace portico
