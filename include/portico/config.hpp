#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/error.hpp"
#include "portico/provider_settings.hpp"

namespace portico {

// `retry` of a config node.
struct RetrySettings {
  int attempts = 0;                  // retries after the first try (at most 5)
  std::vector<int> on_status_codes;  // empty: the default list {429, 500, 502, 503, 504}
  bool use_retry_after_header = false;
};

// `cache` of a config node.
struct CacheSettings {
  std::string mode;                       // "simple" or "semantic"
  std::optional<std::int64_t> max_age_s;  // seconds
};

// One `strategy.conditions` entry of a conditional node.
struct Condition {
  nlohmann::json query;  // e.g. {"metadata.tier":{"$eq":"pro"}}
  std::string then;      // name of the target to use
};

// One node of an `x-portkey-config` tree, with keys normalised to snake_case. A leaf has a
// `provider` (and usually credentials); an inner node has a strategy `mode` and `targets`.
// Fields that are unset here are inherited from the parent when the plan is walked.
struct ConfigNode {
  // Strategy ("" for a leaf, else "single", "fallback", "loadbalance" or "conditional").
  std::string mode;
  std::vector<ConfigNode> targets;
  std::vector<int> strategy_on_status_codes;  // fallback: only these statuses fall back
  std::vector<Condition> conditions;          // conditional
  std::string default_target;                 // conditional
  std::string name;                           // this node's name, for conditional routing
  double weight = 1.0;                        // loadbalance weight

  // Inheritable settings.
  std::optional<RetrySettings> retry;
  std::optional<std::int64_t> request_timeout_ms;
  nlohmann::json override_params;  // object, or null when absent
  std::optional<std::string> custom_host;
  std::optional<std::vector<std::string>> forward_headers;  // lower-case header names
  std::optional<bool> strict_open_ai_compliance;
  std::optional<CacheSettings> cache;

  // Leaf identity and credentials.
  std::string provider;
  std::optional<std::string> api_key;
  std::optional<std::string> virtual_key;
  // Every other key of the node, snake_case: the providers' declared settings (resource_name,
  // aws_access_key_id, vertex_project_id, ...) and any other key, as written.
  nlohmann::json provider_options = nlohmann::json::object();

  bool isLeaf() const { return mode.empty() && targets.empty(); }
};

// What the config parser needs from the rest of the gateway.
struct ConfigParseOptions {
  // All registered provider ids, in the order the "Invalid 'provider' value" message lists them.
  std::vector<std::string> provider_ids;
  // Other accepted names of those ids (alias -> id); a config naming an alias gets the id.
  std::map<std::string, std::string, std::less<>> provider_aliases;
  // What the providers declare about their settings: the fields type-checked on every node, the
  // credential sets of the "one of" rule, the required-together rules, the header aliases of
  // header-built targets. Built once at start-up (configParseOptions() in provider_registry.hpp);
  // null: no provider declares anything.
  std::shared_ptr<const SettingsCatalog> settings;
  // Returns true when a custom host is acceptable (see custom_host_policy.hpp).
  std::function<bool(std::string_view)> is_valid_custom_host;
};

// Parses and validates an `x-portkey-config` header value (JSON text). On failure returns
// Portkey's 400 body: configNotJson() for non-JSON, invalidConfig() listing every problem with
// its comma-joined path ("targets,1,weight"), or the "not supported in this route" error for
// legacy `options` configs. snake_case and camelCase keys are both accepted.
Expected<ConfigNode> parseConfig(std::string_view text, const ConfigParseOptions& options);

// Turns a camelCase key into snake_case ("apiKey" -> "api_key"); snake_case is left unchanged.
std::string toSnakeCase(std::string_view key);

}  // namespace portico
