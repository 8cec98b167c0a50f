#include "proxy/token_cache.hpp"

#include <algorithm>

namespace portico::proxy {

std::optional<std::string> TokenCache::find(const std::string& key, Clock::time_point now) const {
  if (auto it = tokens_.find(key); it != tokens_.end() && it->second.valid_until > now) {
    return it->second.token;
  }
  return std::nullopt;
}

void TokenCache::put(const std::string& key,
                     std::string token,
                     std::chrono::seconds expires_in,
                     Clock::time_point now) {
  if (tokens_.size() >= kMaxTokens) {
    tokens_.clear();  // bounded; a refill costs one exchange per credential
  }
  const auto lifetime = std::max(std::chrono::seconds(0), expires_in - kRefreshMargin);
  tokens_[key] = Entry{std::move(token), now + lifetime};
}

}  // namespace portico::proxy
