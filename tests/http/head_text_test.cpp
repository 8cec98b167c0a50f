// The answer heads the client edge writes itself: framing from the arguments only, unsafe
// headers left out, the HTTP version's keep-alive rules.
#include "http/head_text.hpp"

#include <gtest/gtest.h>

namespace portico::edge {
namespace {

TEST(AnswerHead, CompleteAnswerHasItsLengthAndOurContentType) {
  std::string out;
  appendAnswerHead(out, 200, "application/json",
                   {{"x-request-id", "r1"},
                    {"content-type", "text/html"},
                    {"content-length", "999"},
                    {"transfer-encoding", "chunked"},
                    {"connection", "close"}},
                   HeadFraming{11, true, false, 42});
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nx-request-id: r1\r\nContent-Type: application/json\r\n"
            "Content-Length: 42\r\n\r\n");
}

TEST(AnswerHead, AHeaderThatWouldSplitTheAnswerIsLeftOut) {
  std::string out;
  appendAnswerHead(out, 502, "application/json",
                   {{"x-ok", "fine"}, {"x-evil", "a\r\nset-cookie: b"}, {"bad name", "v"}},
                   HeadFraming{11, true, false, 2});
  EXPECT_EQ(out,
            "HTTP/1.1 502 Bad Gateway\r\nx-ok: fine\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n");
}

TEST(AnswerHead, StreamIsChunkedAndNotCached) {
  std::string out;
  HeadFraming framing{11, false, true};
  framing.no_cache = true;
  appendAnswerHead(out, 200, "text/event-stream", {{"cache-control", "max-age=60"}}, framing);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
}

TEST(AnswerHead, Http10SaysKeepAliveAndBodilessStatusesHaveNoLength) {
  std::string out;
  appendAnswerHead(out, 204, "", {}, HeadFraming{10, true, false, 0});
  EXPECT_EQ(out, "HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n");
  out.clear();
  appendAnswerHead(out, 404, "application/json", {}, HeadFraming{10, false, false, 7});
  EXPECT_EQ(out,
            "HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
            "7\r\n\r\n");
}

}  // namespace
}  // namespace portico::edge
