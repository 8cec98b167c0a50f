#include "portico/content_encoding.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace portico {
namespace {

bool equalsLower(std::string_view value, std::string_view lower) {
  return value.size() == lower.size() &&
         std::equal(value.begin(), value.end(), lower.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

ContentCoding parseContentEncoding(std::string_view value) {
  value = trimmed(value);
  if (value.empty() || equalsLower(value, "identity")) {
    return ContentCoding::kIdentity;
  }
  if (equalsLower(value, "gzip") || equalsLower(value, "x-gzip")) {
    return ContentCoding::kGzip;
  }
  if (equalsLower(value, "deflate")) {
    return ContentCoding::kDeflate;
  }
  return ContentCoding::kUnsupported;
}

bool decodeContent(ContentCoding coding,
                   std::string_view in,
                   std::size_t limit,
                   std::string& out,
                   std::string& error) {
  out.clear();
  if (coding == ContentCoding::kIdentity) {
    if (in.size() > limit) {
      error = "answer too large";
      return false;
    }
    out.assign(in);
    return true;
  }
  if (coding == ContentCoding::kUnsupported) {
    error = "unsupported content encoding";
    return false;
  }
  z_stream z{};
  // 15 window bits; +16 reads a gzip wrapper, +32 detects gzip or zlib by the header.
  const int window = coding == ContentCoding::kGzip ? 15 + 16 : 15 + 32;
  if (inflateInit2(&z, window) != Z_OK) {
    error = "cannot start decompression";
    return false;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char chunk[16 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      error = rc == Z_BUF_ERROR ? "truncated compressed answer" : "corrupt compressed answer";
      inflateEnd(&z);
      return false;
    }
    const std::size_t produced = sizeof(chunk) - z.avail_out;
    if (out.size() + produced > limit) {
      error = "answer too large once decompressed";
      inflateEnd(&z);
      return false;
    }
    out.append(chunk, produced);
  }
  inflateEnd(&z);
  return true;
}

}  // namespace portico
