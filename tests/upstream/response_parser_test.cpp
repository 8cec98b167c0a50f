// The upstream response parser: Beast's parsing into a HeaderList and into body buffers the
// reader lends, read by the pipeline as it read Beast's own message before.
#include "upstream/response_parser.hpp"

#include <gtest/gtest.h>

#include <array>

namespace portico::upstream {
namespace {

// Parses `text` with loans of `loan` bytes; the body as it came out of the loans.
std::string parseWithLoans(ResponseParser& parser, std::string_view text, std::size_t loan) {
  parser.eager(true);
  std::string body;
  std::array<char, 64> buffer{};
  std::size_t used = 0;
  while (!parser.is_done()) {
    parser.lend(buffer.data(), std::min(loan, buffer.size()));
    beast::error_code ec;
    used += parser.put(net::buffer(text.data() + used, text.size() - used), ec);
    body.append(buffer.data(), std::min(loan, buffer.size()) - parser.room());
    if (ec && ec != http::error::need_buffer) {
      ADD_FAILURE() << ec.message();
      break;
    }
  }
  EXPECT_EQ(used, text.size());
  return body;
}

TEST(ResponseParser, KeepsStatusAndLowerCaseHeadersInOrder) {
  ResponseParser parser;
  const std::string body = parseWithLoans(parser,
                                          "HTTP/1.1 429 Too Many Requests\r\n"
                                          "Content-Type: application/json\r\nRetry-After: 3\r\n"
                                          "X-Dup: 1\r\nx-dup: 2\r\nContent-Length: 2\r\n\r\n{}",
                                          64);
  EXPECT_EQ(parser.status(), 429);
  EXPECT_EQ(parser.headers(), (HeaderList{{"content-type", "application/json"},
                                          {"retry-after", "3"},
                                          {"x-dup", "1"},
                                          {"x-dup", "2"},
                                          {"content-length", "2"}}));
  EXPECT_EQ(parser.header("content-type"), "application/json");
  EXPECT_EQ(parser.header("x-dup"), "1");  // the first of repeated fields
  EXPECT_EQ(parser.header("content-encoding"), "");
  EXPECT_EQ(body, "{}");
  EXPECT_TRUE(parser.keep_alive());
}

TEST(ResponseParser, ABodyLargerThanALoanWaitsForTheNext) {
  const std::string payload = "0123456789abcdefghijklmnopqrstuvwxyz";
  const std::string text =
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
  for (std::size_t loan : {1u, 5u, 7u, 36u}) {
    ResponseParser parser;
    EXPECT_EQ(parseWithLoans(parser, text, loan), payload) << "loan " << loan;
  }
}

TEST(ResponseParser, ChunkedBodiesComeOutWhole) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  for (std::size_t loan : {1u, 3u, 64u}) {
    ResponseParser parser;
    EXPECT_EQ(parseWithLoans(parser, text, loan), "hello, world") << "loan " << loan;
    EXPECT_FALSE(parser.keep_alive());
  }
}

TEST(ResponseParser, WithoutALoanTheBodyStaysInTheInput) {
  ResponseParser parser;
  parser.eager(true);
  const std::string_view text = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  beast::error_code ec;
  std::size_t used = parser.put(net::buffer(text.data(), text.size()), ec);
  while (!ec && used < text.size()) {
    used += parser.put(net::buffer(text.data() + used, text.size() - used), ec);
  }
  EXPECT_EQ(ec, http::error::need_buffer);
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  EXPECT_EQ(text.substr(used), "abc");
}

TEST(ResponseParser, MalformedHeadersAreRefused) {
  for (std::string_view text :
       {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"}) {
    ResponseParser parser;
    beast::error_code ec;
    parser.put(net::buffer(text.data(), text.size()), ec);
    EXPECT_TRUE(ec && ec != http::error::need_more) << text;
  }
}

}  // namespace
}  // namespace portico::upstream
