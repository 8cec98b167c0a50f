// A deliberately minimal, fast OpenAI-format upstream for benchmarks: one thread, keep-alive,
// a fixed chat.completion answer, or a chunked SSE stream of --chunks events when the request
// body asks for "stream":true. Not a test fake: it checks nothing.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

namespace {

const std::string kAnswer =
    R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,)"
    R"("model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":"Hello! How can I help you today?"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}})";

std::string chunkEvent(int i) {
  return R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
         R"("model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"token)" +
         std::to_string(i) + R"( "},"finish_reason":null}]})" + "\n\n";
}

int g_chunks = 10;

net::awaitable<void> serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    auto read = co_await http::async_read(stream, buffer, request, kUseTuple);
    if (std::get<0>(read)) {
      co_return;
    }
    const bool streaming = request.body().find("\"stream\":true") != std::string::npos;
    if (!streaming) {
      http::response<http::string_body> response{http::status::ok, 11};
      response.set(http::field::content_type, "application/json");
      response.keep_alive(request.keep_alive());
      response.body() = kAnswer;
      response.prepare_payload();
      auto written = co_await http::async_write(stream, response, kUseTuple);
      if (std::get<0>(written)) {
        co_return;
      }
      continue;
    }
    http::response<http::empty_body> response{http::status::ok, 11};
    response.set(http::field::content_type, "text/event-stream");
    response.keep_alive(request.keep_alive());
    response.chunked(true);
    http::response_serializer<http::empty_body> serializer(response);
    auto header = co_await http::async_write_header(stream, serializer, kUseTuple);
    if (std::get<0>(header)) {
      co_return;
    }
    for (int i = 0; i < g_chunks; ++i) {
      std::string event = chunkEvent(i);
      auto w = co_await net::async_write(stream, http::make_chunk(net::buffer(event)), kUseTuple);
      if (std::get<0>(w)) {
        co_return;
      }
    }
    std::string done = "data: [DONE]\n\n";
    co_await net::async_write(stream, http::make_chunk(net::buffer(done)), kUseTuple);
    auto last = co_await net::async_write(stream, http::make_chunk_last(), kUseTuple);
    if (std::get<0>(last)) {
      co_return;
    }
  }
}

net::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    auto accepted = co_await acceptor.async_accept(kUseTuple);
    if (std::get<0>(accepted)) {
      continue;
    }
    auto& socket = std::get<1>(accepted);
    socket.set_option(tcp::no_delay(true));
    net::co_spawn(acceptor.get_executor(), serve(std::move(socket)), net::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 18100;
  g_chunks = argc > 2 ? std::atoi(argv[2]) : 10;
  net::io_context ioc{1};
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::co_spawn(ioc, listen(acceptor), net::detached);
  std::cout << "mock upstream on 127.0.0.1:" << port << std::endl;
  ioc.run();
}
