// The client edge's request parser: Beast's parsing, written into the one request a connection
// keeps, which must read as a fresh one every time whatever the request before it held.
#include "http/request_parser.hpp"

#include <gtest/gtest.h>

namespace portico::edge {
namespace {

// Parses `text` (a whole request) into `out`; the error Beast reported, if any.
beast::error_code parseInto(IncomingRequest& out, std::string_view text) {
  RequestParser parser(out);
  parser.eager(true);
  beast::error_code ec;
  std::size_t used = 0;
  while (!ec && used < text.size() && !parser.is_done()) {
    used += parser.put(net::buffer(text.data() + used, text.size() - used), ec);
  }
  if (!ec && !parser.is_done()) {
    return http::error::need_more;
  }
  return ec;
}

TEST(RequestParser, FillsTheRequestWithLowerCaseNamesInOrder) {
  IncomingRequest out;
  ASSERT_FALSE(parseInto(out,
                         "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\n"
                         "X-Portkey-Provider: openai\r\nContent-Length: 4\r\n"
                         "X-Dup: 1\r\nx-dup: 2\r\n\r\n{\"a\"}"));
  EXPECT_EQ(out.method, "POST");
  EXPECT_EQ(out.target, "/v1/chat/completions?x=1");
  EXPECT_EQ(out.version, 11u);
  EXPECT_TRUE(out.keep_alive);
  EXPECT_FALSE(out.head);
  EXPECT_EQ(out.headers, (HeaderList{{"host", "a"},
                                     {"x-portkey-provider", "openai"},
                                     {"content-length", "4"},
                                     {"x-dup", "1"},
                                     {"x-dup", "2"}}));
  EXPECT_EQ(out.body, "{\"a\"");
}

TEST(RequestParser, TheNextRequestLeavesNothingOfTheOneBefore) {
  IncomingRequest out;
  ASSERT_FALSE(parseInto(out,
                         "POST /first HTTP/1.1\r\nA-Very-Long-Header-Name: a long value indeed\r\n"
                         "B: 2\r\nC: 3\r\nContent-Length: 10\r\n\r\n0123456789"));
  ASSERT_EQ(out.headers.size(), 4u);
  ASSERT_FALSE(parseInto(out, "HEAD /s HTTP/1.0\r\nb: x\r\n\r\n"));
  EXPECT_EQ(out.method, "HEAD");
  EXPECT_EQ(out.target, "/s");
  EXPECT_EQ(out.version, 10u);
  EXPECT_FALSE(out.keep_alive);  // HTTP/1.0 without keep-alive
  EXPECT_TRUE(out.head);
  EXPECT_EQ(out.headers, (HeaderList{{"b", "x"}}));
  EXPECT_TRUE(out.body.empty());
  ASSERT_FALSE(parseInto(out, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(out.keep_alive);
  EXPECT_FALSE(out.head);
}

TEST(RequestParser, ChunkedBodiesAreJoinedAndTransferEncodingLinesToo) {
  IncomingRequest out;
  RequestParser parser(out);
  parser.eager(true);
  beast::error_code ec;
  const std::string_view text =
      "POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n"
      "\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n";
  std::size_t used = 0;
  while (!ec && !parser.is_done()) {
    used += parser.put(net::buffer(text.data() + used, text.size() - used), ec);
  }
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.joinedTransferEncoding(), "gzip, chunked");
  EXPECT_EQ(out.body, "abcde");
  IncomingRequest none;
  ASSERT_FALSE(parseInto(none, "GET / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(RequestParser(none).joinedTransferEncoding(), std::nullopt);
}

TEST(RequestParser, BeastsLimitsStillHold) {
  IncomingRequest out;
  {
    RequestParser parser(out);
    parser.body_limit(4);
    beast::error_code ec;
    parser.put(net::buffer(std::string_view("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n")), ec);
    EXPECT_EQ(ec, http::error::body_limit);
  }
  {
    RequestParser parser(out);
    parser.header_limit(32);
    beast::error_code ec;
    const std::string head = "GET / HTTP/1.1\r\nx: " + std::string(64, 'v') + "\r\n\r\n";
    parser.put(net::buffer(head), ec);
    EXPECT_EQ(ec, http::error::header_limit);
  }
  EXPECT_EQ(parseInto(out, "GET / HTTP/1.1\r\nbad header\r\n\r\n"), http::error::bad_field);
}

}  // namespace
}  // namespace portico::edge
