#pragma once

// The response cache (`cache.mode: "simple"`): an abstract store, so a shared (e.g. Redis)
// backend can be added later, and an in-memory LRU bounded in bytes. Pure: no Asio.

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace portico::routing {

// Entries live this long when the config gives no `cache.max_age` (seconds).
inline constexpr std::chrono::seconds kDefaultCacheMaxAge{24 * 60 * 60};

// A stored answer: a complete 2xx, already in OpenAI's format.
struct CachedResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::string provider;
};

class ResponseCache {
 public:
  virtual ~ResponseCache() = default;
  // The entry for `key` if present and not expired. Safe to call from any thread.
  virtual std::optional<CachedResponse> get(const std::string& key) = 0;
  // Stores `value` for `max_age`. Safe to call from any thread.
  virtual void put(const std::string& key, CachedResponse value, std::chrono::seconds max_age) = 0;
};

// In-process LRU. Entries past `max_bytes` (key + body + fixed overhead) evict the least
// recently used; an entry larger than the whole budget is not stored. Expired entries go on
// read and when they reach the LRU end. One mutex: the cache is only touched by requests whose
// config enables it.
class MemoryResponseCache final : public ResponseCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit MemoryResponseCache(std::size_t max_bytes, std::function<Clock::time_point()> now = {});

  std::optional<CachedResponse> get(const std::string& key) override;
  void put(const std::string& key, CachedResponse value, std::chrono::seconds max_age) override;

  std::size_t sizeBytes() const;
  std::size_t entryCount() const;

 private:
  struct Entry {
    std::string key;
    CachedResponse value;
    Clock::time_point expires;
    std::size_t bytes = 0;
  };
  void eraseLocked(std::list<Entry>::iterator it);

  const std::size_t max_bytes_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
};

// Lower-case hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// The cache key: SHA-256 over the provider, a SHA-256 of the credential material (the key
// itself is never kept), the endpoint path and the canonical body (nlohmann's dump sorts object
// keys, so key order in the client's JSON does not matter).
std::string responseCacheKey(std::string_view provider,
                             std::string_view credential,
                             std::string_view endpoint_path,
                             const nlohmann::json& body);

// Re-emits a stored chat.completion as OpenAI SSE, for a streamed request served from the
// cache: one chunk with each choice's whole message, one chunk with the finish reasons and
// usage, then "data: [DONE]". A body that is not a chat.completion gives one error event.
std::string chatCompletionAsSse(std::string_view completion_json);

}  // namespace portico::routing
