#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico {

// What an upstream's Content-Encoding says about its body. Portico asks for identity, since it
// must read answers to translate them; some servers compress anyway.
enum class ContentCoding { kIdentity, kGzip, kDeflate, kUnsupported };

// Reads a Content-Encoding value: empty or "identity" is kIdentity; "gzip", "x-gzip" and
// "deflate" are decoded; anything else (br, zstd, several codings) is kUnsupported.
ContentCoding parseContentEncoding(std::string_view value);

// Decompresses `in` (gzip or zlib-wrapped deflate) into `out`. Fails with a message in `error`
// on corrupt or truncated data, or once the output would pass `limit` bytes, so a small
// compressed answer cannot expand into gigabytes.
bool decodeContent(ContentCoding coding,
                   std::string_view in,
                   std::size_t limit,
                   std::string& out,
                   std::string& error);

}  // namespace portico
