#include "http/head_text.hpp"

#include <array>
#include <charconv>

#include "http/beast_http.hpp"
#include "portico/header_hygiene.hpp"

namespace portico::edge {
namespace {

bool isFramingHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kFraming = {
      "content-type", "content-length", "transfer-encoding", "connection", "keep-alive"};
  for (auto framing : kFraming) {
    if (beast::iequals(name, framing)) {
      return true;
    }
  }
  return false;
}

void appendNumber(std::string& out, std::size_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), n).ptr;
  out.append(digits, end);
}

}  // namespace

bool statusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void appendAnswerHead(std::string& out,
                      int status,
                      std::string_view content_type,
                      const HeaderList& headers,
                      const HeadFraming& framing) {
  out.append(framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  appendNumber(out, static_cast<std::size_t>(status));
  out.push_back(' ');
  out.append(http::obsolete_reason(static_cast<http::status>(status)));
  out.append("\r\n");
  for (const auto& [name, value] : headers) {
    if (isFramingHeader(name) || (framing.no_cache && beast::iequals(name, "cache-control"))) {
      continue;
    }
    if (isValidHeaderName(name) && isValidHeaderValue(value)) {
      out.append(name).append(": ").append(value).append("\r\n");
    }
  }
  if (!content_type.empty() && isValidHeaderValue(content_type)) {
    out.append("Content-Type: ").append(content_type).append("\r\n");
  }
  if (framing.no_cache) {
    out.append("Cache-Control: no-cache\r\n");
  }
  if (framing.chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (!statusHasNoBody(status)) {
    out.append("Content-Length: ");
    appendNumber(out, framing.content_length);
    out.append("\r\n");
  }
  if (framing.version == 10 && framing.keep_alive) {
    out.append("Connection: keep-alive\r\n");
  } else if (framing.version != 10 && !framing.keep_alive) {
    out.append("Connection: close\r\n");
  }
  out.append("\r\n");
}

}  // namespace portico::edge
