#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::keys {

enum class BudgetPeriod { kDay, kMonth, kTotal };

// How configs, the store, the CLI and the admin API spell a period: "day", "month", "total".
inline const char* periodName(BudgetPeriod period) {
  switch (period) {
    case BudgetPeriod::kDay:
      return "day";
    case BudgetPeriod::kMonth:
      return "month";
    case BudgetPeriod::kTotal:
      break;
  }
  return "total";
}

inline std::optional<BudgetPeriod> periodFromName(std::string_view name) {
  for (BudgetPeriod period : {BudgetPeriod::kDay, BudgetPeriod::kMonth, BudgetPeriod::kTotal}) {
    if (name == periodName(period)) {
      return period;
    }
  }
  return std::nullopt;
}

// A spending cap: USD and/or tokens (prompt + completion) per period. Unset: no cap.
struct Budget {
  std::optional<double> usd;
  std::optional<std::int64_t> tokens;
  BudgetPeriod period = BudgetPeriod::kTotal;
  bool empty() const { return !usd && !tokens; }
};

// Provider credentials sealed under the master key (secret_box.hpp): `sealed` is
// base64(nonce || ciphertext || tag) of a JSON object {"api_key": ..., "<secret field>": ...},
// `master_key_id` names the master key that sealed it (rotation re-seals under another).
struct SealedSecrets {
  std::string sealed;  // "" when the key holds no secret (a keyless self-hosted provider)
  std::string master_key_id;
};

// A virtual key as stored: never the key itself (only its SHA-256), never a secret in clear.
struct KeyRecord {
  std::string id;          // "vk_" + 16 hex characters; stable across rotations
  std::string name;        // unique among keys
  std::string provider;    // a registered provider id
  std::string key_hash;    // lower-case hex SHA-256 of the whole "pk-..." key
  std::string key_prefix;  // the key's first 11 characters ("pk-" + 8), for listings
  SealedSecrets secrets;
  nlohmann::json fields = nlohmann::json::object();  // the provider's non-secret settings
  std::string custom_host;                           // "" : the provider's own base URL
  nlohmann::json config;                             // a default config tree, or null
  std::vector<std::string> models;  // allowed models: exact names and '*' patterns; empty: all
  std::int64_t rpm = 0;             // requests per minute; 0: unlimited
  std::int64_t tpm = 0;             // tokens per minute; 0: unlimited
  Budget budget;
  std::optional<std::int64_t> expires_at;  // unix seconds
  bool enabled = true;
  nlohmann::json metadata = nlohmann::json::object();
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t updated_at = 0;
};

// What one key spent on one UTC day with one model. The store adds rows up (an upsert).
struct UsageRow {
  std::string key_id;
  std::string day;  // "YYYY-MM-DD", UTC
  std::string model;
  std::int64_t requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t cached_tokens = 0;
  double cost_usd = 0;
};

}  // namespace portico::keys
