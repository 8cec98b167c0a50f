#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

namespace portico::proxy {

// Access tokens fetched for providers' token exchanges (service accounts), by the adapter's
// cache key, until shortly before they expire. One per worker: no lock.
class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  // Tokens are refreshed this long before they expire.
  static constexpr auto kRefreshMargin = std::chrono::seconds(60);
  static constexpr std::size_t kMaxTokens = 1024;

  std::optional<std::string> find(const std::string& key, Clock::time_point now) const;
  // Keeps `token` for `expires_in` less the refresh margin.
  void put(const std::string& key,
           std::string token,
           std::chrono::seconds expires_in,
           Clock::time_point now);

 private:
  struct Entry {
    std::string token;
    Clock::time_point valid_until;
  };
  std::unordered_map<std::string, Entry> tokens_;
};

}  // namespace portico::proxy
