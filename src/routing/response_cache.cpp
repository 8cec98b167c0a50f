#include "routing/response_cache.hpp"

#include <openssl/evp.h>

#include <array>

#include "portico/json_parse.hpp"

namespace portico::routing {
namespace {

// Bookkeeping per entry besides the strings: list node, map node, timestamps.
constexpr std::size_t kEntryOverhead = 160;

}  // namespace

MemoryResponseCache::MemoryResponseCache(std::size_t max_bytes,
                                         std::function<Clock::time_point()> now)
    : max_bytes_(max_bytes), now_(std::move(now)) {
  if (!now_) {
    now_ = [] { return Clock::now(); };
  }
}

void MemoryResponseCache::eraseLocked(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

std::optional<CachedResponse> MemoryResponseCache::get(const std::string& key) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) {
    return std::nullopt;
  }
  auto it = found->second;
  if (now >= it->expires) {
    eraseLocked(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return it->value;
}

void MemoryResponseCache::put(const std::string& key,
                              CachedResponse value,
                              std::chrono::seconds max_age) {
  if (max_age <= std::chrono::seconds(0)) {
    return;
  }
  const std::size_t bytes = kEntryOverhead + key.size() * 2 + value.body.size() +
                            value.content_type.size() + value.provider.size();
  if (bytes > max_bytes_) {
    return;
  }
  const auto now = now_();
  // Clamp so a huge max_age cannot overflow the time point.
  const auto age = std::min<std::chrono::seconds>(max_age, std::chrono::hours(24 * 365 * 10));
  std::lock_guard lock(mutex_);
  if (auto found = index_.find(key); found != index_.end()) {
    eraseLocked(found->second);
  }
  while (bytes_ + bytes > max_bytes_ && !lru_.empty()) {
    eraseLocked(std::prev(lru_.end()));
  }
  lru_.push_front(Entry{key, std::move(value), now + age, bytes});
  index_.emplace(key, lru_.begin());
  bytes_ += bytes;
}

std::size_t MemoryResponseCache::sizeBytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t MemoryResponseCache::entryCount() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

std::string sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string responseCacheKey(std::string_view provider,
                             std::string_view credential,
                             std::string_view endpoint_path,
                             const nlohmann::json& body) {
  std::string material;
  material.append(provider).push_back('\n');
  material.append(sha256Hex(credential)).push_back('\n');
  material.append(endpoint_path).push_back('\n');
  material.append(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return sha256Hex(material);
}

std::string chatCompletionAsSse(std::string_view completion_json) {
  using nlohmann::json;
  auto frame = [](const json& event) {
    return "data: " + event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  };
  json completion = parseJson(completion_json);
  if (!completion.is_object() || !completion.contains("choices") ||
      !completion["choices"].is_array()) {
    return frame(json{{"error",
                       {{"message", "cached response is not a chat completion"},
                        {"type", "server_error"},
                        {"param", nullptr},
                        {"code", nullptr}}}});
  }
  json base = json::object();
  for (const char* key : {"id", "created", "model", "system_fingerprint", "provider"}) {
    if (auto it = completion.find(key); it != completion.end()) {
      base[key] = *it;
    }
  }
  base["object"] = "chat.completion.chunk";

  json content = base;
  json finish = base;
  content["choices"] = json::array();
  finish["choices"] = json::array();
  std::size_t position = 0;
  for (const auto& choice : completion["choices"]) {
    if (!choice.is_object()) {
      continue;
    }
    const json index = choice.value("index", json(position++));
    json delta = json::object();
    if (auto message = choice.find("message"); message != choice.end() && message->is_object()) {
      delta = *message;
      if (!delta.contains("role")) {
        delta["role"] = "assistant";
      }
      if (auto calls = delta.find("tool_calls"); calls != delta.end() && calls->is_array()) {
        for (std::size_t i = 0; i < calls->size(); ++i) {
          if ((*calls)[i].is_object()) {
            (*calls)[i]["index"] = i;  // chunks number their tool calls
          }
        }
      }
    }
    content["choices"].push_back(
        {{"index", index}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}});
    finish["choices"].push_back({{"index", index},
                                 {"delta", json::object()},
                                 {"logprobs", nullptr},
                                 {"finish_reason", choice.value("finish_reason", json("stop"))}});
  }
  if (auto usage = completion.find("usage"); usage != completion.end()) {
    finish["usage"] = *usage;
  }
  return frame(content) + frame(finish) + "data: [DONE]\n\n";
}

}  // namespace portico::routing
