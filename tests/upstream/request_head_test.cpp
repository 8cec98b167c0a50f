// The upstream request head the client writes itself: Host from the request, the framing
// headers ours alone, a default User-Agent, identity encoding.
#include <gtest/gtest.h>

#include "upstream/upstream_client.hpp"

namespace portico::upstream {
namespace {

UpstreamRequest chatRequest() {
  UpstreamRequest request;
  request.method = "POST";
  request.scheme = "https";
  request.host = "api.example.com";
  request.port = "443";
  request.target = "/v1/chat/completions";
  request.body = R"({"model":"m"})";
  return request;
}

TEST(RequestHead, PostCarriesHostLengthAndIdentityEncoding) {
  auto request = chatRequest();
  request.headers = {{"authorization", "Bearer k"}, {"content-type", "application/json"},
                     {"content-length", "1"},       {"host", "other.example"},
                     {"accept-encoding", "gzip"},   {"connection", "close"}};
  std::string out = "left over";
  appendRequestHead(out, request);
  EXPECT_EQ(out,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com\r\n"
            "authorization: Bearer k\r\ncontent-type: application/json\r\n"
            "User-Agent: portico/0.1\r\nAccept-Encoding: identity\r\nContent-Length: 13\r\n\r\n");
}

TEST(RequestHead, TheCallersUserAgentAndPortStay) {
  auto request = chatRequest();
  request.port = "8443";
  request.headers = {{"user-agent", "sdk/1"}};
  std::string out;
  appendRequestHead(out, request);
  EXPECT_EQ(out,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com:8443\r\n"
            "user-agent: sdk/1\r\nAccept-Encoding: identity\r\nContent-Length: 13\r\n\r\n");
}

TEST(RequestHead, GetWithoutBodyHasNoLength) {
  auto request = chatRequest();
  request.method = "GET";
  request.target = "/v1/models";
  request.body.clear();
  std::string out;
  appendRequestHead(out, request);
  EXPECT_EQ(out,
            "GET /v1/models HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: portico/0.1\r\n"
            "Accept-Encoding: identity\r\n\r\n");
}

}  // namespace
}  // namespace portico::upstream
