// A deliberately minimal, fast upstream for benchmarks: one thread, keep-alive. It speaks
// OpenAI's chat completions (any path) and Anthropic's Messages (/v1/messages): a fixed answer,
// or, when the request body asks for "stream":true, a chunked SSE stream of `events` deltas
// (the second argument, default 20). Every answer (status line, headers, each chunk, the last
// chunk) is built once at start and goes out in ONE socket write, as a real provider's single
// send would. Not a test fake: it checks nothing.
// Usage: portico_mock_upstream [PORT [EVENTS]]
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

namespace {

const std::string kOpenAiAnswer =
    R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,)"
    R"("model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":"Hello! How can I help you today?"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}})";

const std::string kAnthropicAnswer =
    R"({"id":"msg_bench","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",)"
    R"("content":[{"type":"text","text":"Hello! How can I help you today?"}],)"
    R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":9}})";

std::string chunk(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

std::string anthropicEvent(std::string_view name, std::string_view json) {
  return "event: " + std::string(name) + "\ndata: " + std::string(json) + "\n\n";
}

std::string openAiStreamBody(int events) {
  std::string body;
  for (int i = 0; i < events; ++i) {
    body += chunk(
        R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
        R"("model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"token)" +
        std::to_string(i) + R"( "},"finish_reason":null}]})" + "\n\n");
  }
  body += chunk("data: [DONE]\n\n");
  return body;
}

// Anthropic's documented event sequence for one text block.
std::string anthropicStreamBody(int events) {
  std::string body;
  body += chunk(anthropicEvent(
      "message_start",
      R"({"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant",)"
      R"("model":"claude-3-5-haiku-20241022","content":[],"stop_reason":null,"stop_sequence":null,)"
      R"("usage":{"input_tokens":9,"output_tokens":1}}})"));
  body += chunk(anthropicEvent(
      "content_block_start",
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"));
  for (int i = 0; i < events; ++i) {
    body += chunk(anthropicEvent(
        "content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token)" +
            std::to_string(i) + R"( "}})"));
  }
  body += chunk(anthropicEvent("content_block_stop", R"({"type":"content_block_stop","index":0})"));
  body += chunk(anthropicEvent(
      "message_delta",
      R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
      R"("usage":{"output_tokens":)" +
          std::to_string(events) + "}}"));
  body += chunk(anthropicEvent("message_stop", R"({"type":"message_stop"})"));
  return body;
}

std::string plainResponse(const std::string& body, bool close) {
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n") +
         (close ? "Connection: close\r\n" : "") + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string streamResponse(const std::string& chunks, bool close) {
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n") +
         (close ? "Connection: close\r\n" : "") + "Transfer-Encoding: chunked\r\n\r\n" + chunks +
         "0\r\n\r\n";
}

// [anthropic][stream][close]
std::string g_responses[2][2][2];

net::awaitable<void> serve(tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    auto [read_error, read_bytes] = co_await http::async_read(socket, buffer, request, kUseTuple);
    if (read_error) {
      co_return;
    }
    const bool anthropic = request.target().starts_with("/v1/messages");
    const bool streaming = request.body().find("\"stream\":true") != std::string::npos;
    const bool close = !request.keep_alive();
    const std::string& answer = g_responses[anthropic][streaming][close];
    auto [write_error, written] = co_await net::async_write(socket, net::buffer(answer), kUseTuple);
    if (write_error || close) {
      co_return;
    }
  }
}

net::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
    if (error) {
      continue;
    }
    boost::system::error_code ignored;  // a peer gone already: serve() sees it on its read
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(acceptor.get_executor(), serve(std::move(socket)), net::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 18100;
  const int events = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::string bodies[2][2] = {{kOpenAiAnswer, openAiStreamBody(events)},
                                    {kAnthropicAnswer, anthropicStreamBody(events)}};
  for (int anthropic = 0; anthropic < 2; ++anthropic) {
    for (int close = 0; close < 2; ++close) {
      g_responses[anthropic][0][close] = plainResponse(bodies[anthropic][0], close != 0);
      g_responses[anthropic][1][close] = streamResponse(bodies[anthropic][1], close != 0);
    }
  }
  net::io_context ioc{1};
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::co_spawn(ioc, listen(acceptor), net::detached);
  std::cout << "mock upstream on 127.0.0.1:" << port << ", " << events << " events per stream"
            << std::endl;
  ioc.run();
}
