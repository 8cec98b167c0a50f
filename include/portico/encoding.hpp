#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// Text and byte encodings every layer needs, each a thin call into the library that does it
// (OpenSSL for base64 and digests, Boost.URL for percent-encoding, Boost.Uuid for ids), so no
// file writes its own.
namespace portico {

// The longest prefix of `text` of at most `limit` bytes that does not end inside a UTF-8
// sequence (a cut backs off continuation bytes).
inline std::string_view utf8Prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

// ASCII lower case; other bytes unchanged.
std::string asciiLower(std::string_view text);
// The same into `out`, which keeps its capacity (a reused header name allocates nothing).
void assignAsciiLower(std::string& out, std::string_view text);

// Standard base64 with padding (RFC 4648 section 4).
std::string base64Encode(std::string_view bytes);
// base64url without padding (RFC 4648 section 5), as JWTs use.
std::string base64UrlEncode(std::string_view bytes);
// Decodes standard base64 (padding required); nullopt for anything else.
std::optional<std::string> base64Decode(std::string_view text);

// Lower-case hex of SHA-256(data).
std::string sha256Hex(std::string_view data);
// Lower-case hex of SHA-1(data): only where a protocol names scripts by it (Redis EVALSHA).
std::string sha1Hex(std::string_view data);
// Raw HMAC-SHA256(key, data).
std::string hmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of arbitrary bytes.
std::string hexEncode(std::string_view bytes);

// RFC 3986 percent-encoding: every byte but the unreserved set (A-Z a-z 0-9 - . _ ~) becomes
// %XX (upper-case hex); '/' is kept when `keep_slash` is set.
std::string percentEncode(std::string_view text, bool keep_slash = false);

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx": unique, not secret (ids,
// never keys).
std::string randomUuid();
// Formats 16 raw bytes as a UUID string; "" unless `bytes` has exactly 16.
std::string formatUuid(std::string_view bytes);

}  // namespace portico
