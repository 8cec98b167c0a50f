#include "portico/header_hygiene.hpp"

#include <gtest/gtest.h>

namespace portico {
namespace {

UpstreamRequest safeRequest() {
  UpstreamRequest r;
  r.host = "api.openai.com";
  r.port = "443";
  r.target = "/v1/chat/completions?x=1";
  r.headers = {{"authorization", "Bearer sk-test"}, {"x-tab", "a\tb"}};
  return r;
}

TEST(HeaderHygiene, NamesAreTokensAndValuesHoldNoControlCharacters) {
  EXPECT_TRUE(isValidHeaderName("x-portkey-trace-id"));
  EXPECT_FALSE(isValidHeaderName(""));
  EXPECT_FALSE(isValidHeaderName("bad name"));
  EXPECT_FALSE(isValidHeaderName("bad:name"));
  EXPECT_TRUE(isValidHeaderValue("Bearer sk-\xc3\xa9 ok\t"));
  for (std::string bad : {std::string("a\rb"), std::string("a\nb"), std::string("a\0b", 3),
                          std::string("a\x7f"), std::string("\x01")}) {
    EXPECT_FALSE(isValidHeaderValue(bad));
  }
}

TEST(HeaderHygiene, EveryPartOfTheRequestIsCheckedAndTheValueNeverNamed) {
  EXPECT_FALSE(findUnsafeRequestPart(safeRequest()));

  auto smuggling = safeRequest();
  smuggling.headers.emplace_back("x-api-key", "sk-secret\r\nContent-Length: 0\r\n\r\nPOST /x");
  auto found = findUnsafeRequestPart(smuggling);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, "the value of header x-api-key");

  auto bad_name = safeRequest();
  bad_name.headers.emplace_back("x\r\ny", "1");
  EXPECT_EQ(findUnsafeRequestPart(bad_name).value_or(""), "a header name");

  auto bad_target = safeRequest();
  bad_target.target = "/v1/chat HTTP/1.1\r\nHost: evil";
  EXPECT_EQ(findUnsafeRequestPart(bad_target).value_or(""), "the request path");

  auto bad_host = safeRequest();
  bad_host.host = "api.openai.com\r\nX: y";
  EXPECT_EQ(findUnsafeRequestPart(bad_host).value_or(""), "the upstream host");

  auto bad_method = safeRequest();
  bad_method.method = "GET /x HTTP/1.1\r\n";
  EXPECT_EQ(findUnsafeRequestPart(bad_method).value_or(""), "the request method");
}

}  // namespace
}  // namespace portico
