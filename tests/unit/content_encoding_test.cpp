#include "portico/content_encoding.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

namespace portico {
namespace {

std::string compress(const std::string& text, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(ContentEncoding, ParsesTheCodingsItCanDecode) {
  EXPECT_EQ(parseContentEncoding(""), ContentCoding::kIdentity);
  EXPECT_EQ(parseContentEncoding(" Identity "), ContentCoding::kIdentity);
  EXPECT_EQ(parseContentEncoding("GZIP"), ContentCoding::kGzip);
  EXPECT_EQ(parseContentEncoding("x-gzip"), ContentCoding::kGzip);
  EXPECT_EQ(parseContentEncoding("deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(parseContentEncoding("br"), ContentCoding::kUnsupported);
  EXPECT_EQ(parseContentEncoding("gzip, br"), ContentCoding::kUnsupported);
}

TEST(ContentEncoding, GzipAndDeflateRoundTrip) {
  const std::string text = R"({"id":"chatcmpl-1","choices":[]})";
  std::string out;
  std::string error;
  ASSERT_TRUE(decodeContent(ContentCoding::kGzip, compress(text, 31), 1024, out, error)) << error;
  EXPECT_EQ(out, text);
  ASSERT_TRUE(decodeContent(ContentCoding::kDeflate, compress(text, 15), 1024, out, error));
  EXPECT_EQ(out, text);
}

TEST(ContentEncoding, BombsTruncationAndGarbageFail) {
  std::string out;
  std::string error;
  const std::string bomb = compress(std::string(4 << 20, 'a'), 31);
  EXPECT_LT(bomb.size(), 16u * 1024);
  EXPECT_FALSE(decodeContent(ContentCoding::kGzip, bomb, 1 << 20, out, error));
  EXPECT_NE(error.find("too large"), std::string::npos);
  const std::string whole = compress("hello hello hello", 31);
  EXPECT_FALSE(
      decodeContent(ContentCoding::kGzip, whole.substr(0, whole.size() - 6), 1024, out, error));
  EXPECT_FALSE(decodeContent(ContentCoding::kGzip, "not gzip at all", 1024, out, error));
  EXPECT_FALSE(decodeContent(ContentCoding::kUnsupported, "x", 1024, out, error));
}

}  // namespace
}  // namespace portico
