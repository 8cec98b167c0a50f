#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::redis {

// Where the shared Redis is and how to log in, from --redis.
struct Endpoint {
  std::string host;
  std::uint16_t port = 6379;
  std::string user;      // "" : AUTH with the password only (the default user)
  std::string password;  // "" : no AUTH
  int db = 0;
  // host:port/db, for logs: never the password.
  std::string describe() const;
};

// Reads redis://[[user]:password@]host[:port][/db]. hiredis 0.14 speaks no TLS, so rediss://
// is refused rather than sent in clear. On failure returns nullopt and says why in `why`
// (without the URL: it may hold the password).
std::optional<Endpoint> parseRedisUrl(std::string_view url, std::string& why);

}  // namespace portico::redis
