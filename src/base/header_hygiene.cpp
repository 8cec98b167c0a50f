#include "portico/header_hygiene.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace portico {
namespace {

// RFC 9110 token characters, looked up by byte: names are checked on every header of every
// request and answer, and a search of the symbols for each '-' made that a call per dash.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

bool isTokenChar(unsigned char c) { return kTokenChars[c]; }

// Request targets are origin-form: visible ASCII only (RFC 9112 section 3.2).
bool isValidTarget(std::string_view target) {
  return !target.empty() && target.front() == '/' &&
         std::all_of(target.begin(), target.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u > 0x20 && u < 0x7F;
         });
}

bool isValidHost(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '_';
  });
}

bool isValidPort(std::string_view port) {
  return !port.empty() && port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool isValidHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return isTokenChar(static_cast<unsigned char>(c));
  });
}

bool isValidHeaderValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7F);
  });
}

std::optional<std::string> findUnsafeRequestPart(const UpstreamRequest& request) {
  if (!isValidHeaderName(request.method)) {
    return "the request method";
  }
  if (!isValidTarget(request.target)) {
    return "the request path";
  }
  if (!isValidHost(request.host) || !isValidPort(request.port)) {
    return "the upstream host";
  }
  for (const auto& [name, value] : request.headers) {
    if (!isValidHeaderName(name)) {
      return "a header name";
    }
    if (!isValidHeaderValue(value)) {
      return "the value of header " + name;
    }
  }
  return std::nullopt;
}

}  // namespace portico
