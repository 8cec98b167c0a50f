#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key_store.hpp"
#include "keys/secret_box.hpp"
#include "keys/virtual_key.hpp"
#include "portico/error.hpp"
#include "portico/provider_settings.hpp"

namespace portico::keys {

// What a create or an update says. On update, an unset member keeps the key's value.
struct KeySpec {
  std::optional<std::string> name;
  std::optional<std::string> provider;
  std::optional<std::string> api_key;      // a secret: sealed, never shown again
  std::optional<std::string> custom_host;  // "" clears
  std::optional<std::vector<std::string>> models;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> tpm;
  std::optional<Budget> budget;  // an empty Budget clears
  // Provider settings by config name (aws_region, azure_resource_name, vertex_service_account_json,
  // ...). The catalog's secret ones are sealed with the api key; on update a null value removes.
  std::optional<nlohmann::json> fields;
  std::optional<std::optional<std::int64_t>> expires_at;  // unix seconds; inner nullopt clears
  std::optional<bool> enabled;
  std::optional<nlohmann::json> config;  // a default config tree; null clears
  std::optional<nlohmann::json> metadata;
};

// The admin API's body for POST and PATCH /admin/v1/keys:
// {"name", "provider", "api_key", "custom_host", "models": [...], "rpm", "tpm",
//  "budget": {"usd", "tokens", "period": "day"|"month"|"total"} or null, "fields": {...},
//  "expires_at": unix seconds or "YYYY-MM-DD" or null, "enabled", "config", "metadata"}.
// A 400 GatewayError names the first member that is wrong. Unknown members are refused.
Expected<KeySpec> keySpecFromJson(const nlohmann::json& body);
// "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" to unix seconds.
std::optional<std::int64_t> parseDate(std::string_view text);

// The key operations the CLI and the admin API share: validation, sealing, the views.
// Errors are GatewayErrors with the status the admin API answers (400 invalid, 404 unknown key,
// 409 duplicate name, 500 store failure) and a message without secrets.
class KeyService {
 public:
  struct Created {
    KeyRecord record;
    std::string key;  // the "pk-..." key: shown this once
  };

  // `master` may be absent: keys without secrets still work; sealing one then fails with a
  // message that says to set PORTICO_MASTER_KEY. `now` gives unix seconds (tests inject it).
  KeyService(KeyStore& store,
             const SettingsCatalog& catalog,
             std::vector<std::string> provider_ids,
             std::optional<MasterKey> master,
             std::function<std::int64_t()> now = {});

  // name and provider are required; a provider whose credentials need an api key needs one.
  Expected<Created> create(const KeySpec& spec);
  // `ref` is an id ("vk_...") or a name.
  Expected<KeyRecord> update(std::string_view ref, const KeySpec& spec);
  // A new pk- key for the same record: the old one stops working.
  Expected<Created> rotate(std::string_view ref);
  Expected<KeyRecord> get(std::string_view ref) const;
  Expected<bool> remove(std::string_view ref);
  std::vector<KeyRecord> list() const;
  Expected<std::vector<UsageRow>> usage(std::string_view ref,
                                        std::string_view from_day,
                                        std::string_view to_day) const;
  // Re-seals every key's secrets under `next` (they must open under the current master key
  // or already be under `next`); returns how many were re-sealed.
  Expected<int> rekey(const MasterKey& next);

 private:
  KeyStore& store_;
  const SettingsCatalog& catalog_;
  std::vector<std::string> provider_ids_;
  std::optional<MasterKey> master_;
  std::function<std::int64_t()> now_;
};

// What listings and the admin API show of a key: everything but secrets and the hash, with
// "has_secrets" and "master_key_id" (which master key sealed them), and "key_prefix".
nlohmann::json keyView(const KeyRecord& record);
// {"key_id", "day", "model", "requests", "prompt_tokens", "completion_tokens", "cached_tokens",
//  "cost_usd"} per row, in an array.
nlohmann::json usageView(const std::vector<UsageRow>& rows);

}  // namespace portico::keys
