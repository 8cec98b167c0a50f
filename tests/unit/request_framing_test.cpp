#include "portico/request_framing.hpp"

#include <gtest/gtest.h>

namespace portico {
namespace {

TEST(RequestFraming, NoTransferEncodingOrExactlyChunkedPasses) {
  EXPECT_FALSE(checkTransferEncoding(std::nullopt));
  EXPECT_FALSE(checkTransferEncoding("chunked"));
  EXPECT_FALSE(checkTransferEncoding(" Chunked "));
  EXPECT_FALSE(checkTransferEncoding("CHUNKED"));
  EXPECT_FALSE(checkTransferEncoding("chunked\t,"));  // empty list elements are ignored
}

TEST(RequestFraming, AFinalCodingOtherThanChunkedIs400) {
  for (const char* value : {"chunked, identity", "xchunked", "identity", "gzip", "", " , ",
                            "chunked;q=1", "chunk ed"}) {
    auto problem = checkTransferEncoding(value);
    ASSERT_TRUE(problem) << value;
    EXPECT_EQ(problem->status, 400) << value;
  }
}

TEST(RequestFraming, CodingsBeforeChunkedAre501) {
  auto problem = checkTransferEncoding("gzip, chunked");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status, 501);
  problem = checkTransferEncoding("chunked, chunked");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status, 501);
}

}  // namespace
}  // namespace portico
