#include "redis/redis_url.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

namespace portico::redis {

std::string Endpoint::describe() const {
  return host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

std::optional<Endpoint> parseRedisUrl(std::string_view url, std::string& why) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    why = "--redis must be a URL such as redis://127.0.0.1:6379/0";
    return std::nullopt;
  }
  if (parsed->scheme() != "redis") {
    why = parsed->scheme() == "rediss"
              ? "--redis: rediss:// (TLS) is not supported; use redis:// on a private network"
              : "--redis must start with redis://";
    return std::nullopt;
  }
  Endpoint endpoint;
  switch (parsed->host_type()) {
    case boost::urls::host_type::ipv4:
      endpoint.host = parsed->host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::ipv6:
      endpoint.host = parsed->host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::name:
      endpoint.host = parsed->host_name();
      break;
    default:
      break;
  }
  if (endpoint.host.empty()) {
    why = "--redis names no host";
    return std::nullopt;
  }
  if (parsed->has_port()) {
    if (parsed->port_number() == 0) {
      why = "--redis has an invalid port";
      return std::nullopt;
    }
    endpoint.port = parsed->port_number();
  }
  if (parsed->has_userinfo()) {
    endpoint.user = parsed->user();
    endpoint.password = parsed->password();
  }
  std::string_view path = parsed->encoded_path();
  if (!path.empty() && path != "/") {
    path.remove_prefix(1);
    int db = -1;
    const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0 || db > 15) {
      why = "--redis: the path must be a database number from 0 to 15";
      return std::nullopt;
    }
    endpoint.db = db;
  }
  return endpoint;
}

}  // namespace portico::redis
