#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "keys/key_meter.hpp"
#include "keys/key_store.hpp"
#include "keys/secret_box.hpp"

namespace portico::keys {

// A virtual key as the request path uses it: the record (its sealed text dropped), the
// opened secrets, and the counters it shares with every worker.
struct LiveKey {
  KeyRecord record;
  nlohmann::json secrets = nlohmann::json::object();  // {"api_key": ..., secret settings}
  std::shared_ptr<KeyMeter> meter;
};

// Every virtual key in memory, by the hash of the key, so that resolving one on the request
// path is a SHA-256 and a map lookup. reload() (the keeper thread) builds a new map from the
// store and swaps it in atomically; readers keep the map they took until they drop it.
class KeyIndex {
 public:
  // `now` gives unix seconds (tests inject it).
  KeyIndex(KeyStore& store,
           std::optional<MasterKey> master,
           std::function<std::int64_t()> now = {});

  // Reads every key. A key whose sealed secrets do not open (no master key, or not the one
  // that sealed them: the message names the key id it needs) throws std::runtime_error when
  // `strict` (at start-up: the gateway refuses to start), else is logged and left out.
  void reload(bool strict = false);
  // The generation the loaded keys are at (KeyStore::generation()).
  std::int64_t generation() const { return generation_.load(); }
  // The key `presented` names, or null.
  std::shared_ptr<const LiveKey> find(std::string_view presented) const;
  std::size_t size() const;
  std::int64_t now() const { return now_(); }

 private:
  using Map = std::unordered_map<std::string, std::shared_ptr<const LiveKey>>;

  std::shared_ptr<KeyMeter> meterFor(const KeyRecord& record);
  nlohmann::json openSecrets(const KeyRecord& record) const;

  KeyStore& store_;
  std::optional<MasterKey> master_;
  std::function<std::int64_t()> now_;
  std::atomic<std::shared_ptr<const Map>> keys_;
  std::atomic<std::int64_t> generation_{-1};
  std::mutex reload_mutex_;  // reload() only: never taken on the request path
  // By key id, across reloads, with the budget the meter was seeded for.
  std::map<std::string, std::pair<std::shared_ptr<KeyMeter>, Budget>> meters_;
};

// The unix time now.
std::int64_t unixNow();

}  // namespace portico::keys
