#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/config.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/json_parse.hpp"
#include "portico/provider_settings.hpp"

namespace portico {
namespace {

using nlohmann::json;

// Limits against hostile configs (they arrive in a request header).
constexpr int kMaxTargetDepth = 32;        // nesting of config nodes
constexpr std::size_t kMaxTargets = 1000;  // entries of one `targets` array
constexpr std::size_t kMaxNodes = 10000;   // config nodes in the whole tree
constexpr std::size_t kMaxProblems = 100;  // lines listed in the error body
constexpr int kMaxRetryAttempts = 5;
constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;

// Portkey's exact texts.
constexpr std::string_view kOneOfMessage =
    "Invalid configuration. It must have either 'provider' and 'api_key', or 'strategy' and "
    "'targets', or 'cache', or 'retry', or 'request_timeout'";
constexpr std::string_view kModeMessage =
    "Invalid 'mode' value. Must be one of: single, loadbalance, fallback, conditional";
constexpr std::string_view kCacheModeMessage =
    "Invalid 'cache.mode' value. Must be one of: simple, semantic";
constexpr std::string_view kLegacyMessage =
    "This version of config is not supported in this route. Please migrate to the latest version";
constexpr std::string_view kForwardSelfMessage =
    "forward_headers must not contain the 'x-portkey-forward-headers' header";

constexpr std::string_view kModes[] = {"single", "loadbalance", "fallback", "conditional"};

// Keys that map onto ConfigNode fields (or are dropped) rather than into provider_options.
constexpr std::string_view kStructuralKeys[] = {"strategy",
                                                "targets",
                                                "name",
                                                "weight",
                                                "on_status_codes",
                                                "retry",
                                                "request_timeout",
                                                "override_params",
                                                "custom_host",
                                                "forward_headers",
                                                "strict_open_ai_compliance",
                                                "cache",
                                                "provider",
                                                "api_key",
                                                "virtual_key"};

constexpr std::string_view kHookArrayKeys[] = {"before_request_hooks", "after_request_hooks"};
constexpr std::string_view kGuardrailKeys[] = {"input_guardrails", "output_guardrails"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// zod's name for a JSON value's type.
std::string typeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    default:
      return "unknown";
  }
}

// JavaScript truthiness, which Portkey's refinements use.
bool truthy(const json* v) {
  if (v == nullptr) return false;
  switch (v->type()) {
    case json::value_t::null:
      return false;
    case json::value_t::boolean:
      return v->get<bool>();
    case json::value_t::string:
      return !v->get_ref<const std::string&>().empty();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: {
      const double d = v->get<double>();
      return d != 0 && !std::isnan(d);
    }
    case json::value_t::array:
    case json::value_t::object:
      return true;
    default:
      return false;
  }
}

std::int64_t clampToInt64(double d) {
  // 2^63 as a double; anything at or above it would overflow the cast.
  if (d >= 9223372036854775807.0) return std::numeric_limits<std::int64_t>::max();
  if (d <= 0) return 0;
  return static_cast<std::int64_t>(d);
}

std::string lowerAscii(std::string s) {
  for (char& c : s) {
    if (isUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Copies an object with snake_case keys; values are untouched. Only config nodes and their
// strategy/retry/cache objects go through here, so user data (override_params,
// string-map provider settings, condition queries, hooks, guardrails, unknown values) keeps its
// keys as written. When both spellings are present the snake_case one wins; of two camelCase
// spellings of one key, the first in key order wins.
json normaliseKeys(const json& object) {
  json out = json::object();
  for (auto it = object.begin(); it != object.end(); ++it) {
    std::string snake = toSnakeCase(it.key());
    if (snake != it.key() && object.contains(snake)) continue;
    if (out.contains(snake)) continue;
    out[std::move(snake)] = it.value();
  }
  return out;
}

class Validator {
 public:
  explicit Validator(const ConfigParseOptions& options)
      : options_(options), catalog_(options.settings.get()) {
    if (!options_.is_valid_custom_host) fallback_policy_.emplace();
  }

  // Parses one config node at path_. Type errors ("aborting" issues in zod terms) anywhere in
  // the node's subtree suppress its whole-node refinements, as in Portkey's zod schema.
  void parseNode(const json& raw, int depth, ConfigNode& out) {
    if (!raw.is_object()) {
      typeError({}, "object", raw);
      return;
    }
    if (depth > kMaxTargetDepth) {
      fail({}, "Targets are nested too deeply (at most " + std::to_string(kMaxTargetDepth) +
                   " levels)");
      return;
    }
    if (++node_count_ > kMaxNodes) {
      if (node_count_ == kMaxNodes + 1) {
        fail({}, "Config has too many targets (at most " + std::to_string(kMaxNodes) + ")");
      }
      return;
    }
    const json node = normaliseKeys(raw);
    const int errors_before = type_errors_;
    const auto get = [&node](std::string_view key) -> const json* {
      auto it = node.find(key);
      return it == node.end() ? nullptr : &*it;
    };

    if (const json* v = get("strategy")) parseStrategy(*v, out);
    if (const json* v = get("provider")) {
      if (auto s = stringAt({"provider"}, *v)) {
        out.provider = *s;
        if (auto alias = options_.provider_aliases.find(*s);
            alias != options_.provider_aliases.end()) {
          out.provider = alias->second;
        }
        const auto& ids = options_.provider_ids;
        if (std::find(ids.begin(), ids.end(), out.provider) == ids.end()) {
          problem({"provider"}, providerMessage());
        }
      }
    }
    if (const json* v = get("api_key")) out.api_key = stringAt({"api_key"}, *v);
    checkProviderFields(node, SettingType::kString);
    if (const json* v = get("cache")) parseCache(*v, out);
    if (const json* v = get("retry")) parseRetry(*v, out);
    if (const json* v = get("weight")) {
      if (auto w = nonNegative({"weight"}, *v)) out.weight = *w;
    }
    // Top-level on_status_codes is in Portkey's schema but unused: validated, then dropped.
    if (const json* v = get("on_status_codes")) statusCodes({"on_status_codes"}, *v);
    if (const json* v = get("targets")) parseTargets(*v, depth, out);
    if (const json* v = get("request_timeout")) {
      if (auto ms = nonNegative({"request_timeout"}, *v))
        out.request_timeout_ms = clampToInt64(*ms);
    }
    if (const json* v = get("custom_host")) out.custom_host = stringAt({"custom_host"}, *v);
    if (const json* v = get("forward_headers")) parseForwardHeaders(*v, out);
    checkProviderFields(node, SettingType::kStringMap);
    for (std::string_view key : kHookArrayKeys) {
      if (const json* v = get(key)) objectArray(key, *v);
    }
    for (std::string_view key : kGuardrailKeys) {
      if (const json* v = get(key)) guardrails(key, *v);
    }
    if (const json* v = get("strict_open_ai_compliance")) {
      if (!v->is_boolean()) {
        typeError({"strict_open_ai_compliance"}, "boolean", *v);
      } else {
        out.strict_open_ai_compliance = v->get<bool>();
      }
    }
    if (const json* v = get("override_params")) {
      if (!v->is_object()) {
        typeError({"override_params"}, "object", *v);
      } else {
        out.override_params = *v;
      }
    }
    if (const json* v = get("name")) {
      if (auto s = stringAt({"name"}, *v)) out.name = *s;
    }
    if (const json* v = get("virtual_key")) out.virtual_key = stringAt({"virtual_key"}, *v);

    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!contains(kStructuralKeys, it.key())) out.provider_options[it.key()] = it.value();
    }

    if (type_errors_ == errors_before) refineNode(node, out.provider, depth);
  }

  bool hasProblems() const { return !lines_.empty(); }

  std::vector<std::string> takeProblems() {
    if (dropped_ > 0) {
      lines_.push_back("path: , message: " + std::to_string(dropped_) +
                       " more problems not listed");
    }
    return std::move(lines_);
  }

 private:
  using Extra = std::initializer_list<std::string_view>;

  // Type-checks the node's keys that a provider declares with `type` (Portkey's schema is
  // global: a field is checked on every node, whatever its provider).
  void checkProviderFields(const json& node, SettingType type) {
    if (catalog_ == nullptr) return;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const SettingsCatalog::Field* field = catalog_->field(it.key());
      if (field == nullptr || field->type != type) continue;
      const json& v = it.value();
      if (type == SettingType::kString) {
        stringAt({it.key()}, v);
      } else if (!v.is_object()) {
        typeError({it.key()}, "object", v);
      } else {
        for (auto member = v.begin(); member != v.end(); ++member) {
          stringAt({it.key(), member.key()}, member.value());
        }
      }
    }
  }

  // The whole-node rules: "one of", custom host, the provider's required settings. `provider`
  // is the node's provider id (aliases resolved), or "".
  void refineNode(const json& node, const std::string& provider, int depth) {
    const auto get = [&node](std::string_view key) -> const json* {
      auto it = node.find(key);
      return it == node.end() ? nullptr : &*it;
    };
    // Every field of the group truthy (an empty group always is).
    const auto complete = [&get](const SettingsCatalog::FieldGroup& group) {
      return std::all_of(group.begin(), group.end(),
                         [&get](const std::string& field) { return truthy(get(field)); });
    };
    const auto anyComplete = [&complete](const std::vector<SettingsCatalog::FieldGroup>& groups) {
      return std::any_of(groups.begin(), groups.end(), complete);
    };
    const json* provider_v = get("provider");
    const bool has_provider = provider_v != nullptr;
    const bool has_targets = get("targets") != nullptr;
    const SettingsCatalog::ProviderRules* rules =
        catalog_ != nullptr && !provider.empty() ? catalog_->rules(provider) : nullptr;

    // The caller decides what a top-level config without provider and targets needs (Portkey
    // answers "Either x-portkey-provider needs to be passed..." before its schema runs).
    const bool skip_one_of = depth == 0 && !truthy(provider_v) && !truthy(get("targets"));
    const bool one_of =
        (has_provider && get("api_key") != nullptr) ||
        (get("strategy") != nullptr && has_targets) || truthy(get("cache")) ||
        truthy(get("retry")) || truthy(get("request_timeout")) ||
        (rules != nullptr && anyComplete(rules->credentials)) ||
        (catalog_ != nullptr && anyComplete(catalog_->anyProviderCredentials())) ||
        truthy(get("before_request_hooks")) || truthy(get("after_request_hooks")) ||
        truthy(get("input_guardrails")) || truthy(get("output_guardrails")) ||
        // Beyond Portkey: credentials resolved elsewhere, or a keyless self-hosted endpoint.
        truthy(get("virtual_key")) || (has_provider && truthy(get("custom_host")));
    if (!skip_one_of && !one_of) problem({}, kOneOfMessage);

    if (const json* host = get("custom_host"); truthy(host) && !customHostAllowed(*host)) {
      problem({}, "Invalid custom host");
    }
    if (rules != nullptr) {
      for (const auto& requirement : rules->required) {
        if (!anyComplete(requirement.any_of)) problem({}, requirement.message);
      }
    }
  }

  bool customHostAllowed(const json& host) const {
    const auto& s = host.get_ref<const std::string&>();
    if (options_.is_valid_custom_host) return options_.is_valid_custom_host(s);
    return fallback_policy_->isAllowed(s);
  }

  void parseStrategy(const json& raw, ConfigNode& out) {
    if (!raw.is_object()) {
      typeError({"strategy"}, "object", raw);
      return;
    }
    const json strategy = normaliseKeys(raw);
    std::string mode;
    if (auto it = strategy.find("mode"); it == strategy.end()) {
      required({"strategy", "mode"});
    } else if (auto s = stringAt({"strategy", "mode"}, *it)) {
      if (contains(kModes, *s)) {
        mode = *s;
        out.mode = *s;
      } else {
        problem({"strategy", "mode"}, kModeMessage);
      }
    }
    if (auto it = strategy.find("on_status_codes"); it != strategy.end()) {
      out.strategy_on_status_codes = statusCodes({"strategy", "on_status_codes"}, *it);
    }
    if (auto it = strategy.find("conditions"); it != strategy.end()) {
      parseConditions(*it, out);
    } else if (mode == "conditional") {
      // Portkey fails at request time ("No conditions passed in the query router"); a
      // conditional node that cannot route is better caught here.
      problem({"strategy", "conditions"}, "Required when mode is 'conditional'");
    }
    if (auto it = strategy.find("default"); it != strategy.end()) {
      if (auto s = stringAt({"strategy", "default"}, *it)) out.default_target = *s;
    }
  }

  void parseConditions(const json& raw, ConfigNode& out) {
    if (!raw.is_array()) {
      typeError({"strategy", "conditions"}, "array", raw);
      return;
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const std::string index = std::to_string(i);
      const json& entry = raw[i];
      if (!entry.is_object()) {
        typeError({"strategy", "conditions", index}, "object", entry);
        continue;
      }
      Condition condition;
      bool ok = true;
      if (auto q = entry.find("query"); q == entry.end()) {
        required({"strategy", "conditions", index, "query"});
        ok = false;
      } else if (!q->is_object()) {
        typeError({"strategy", "conditions", index, "query"}, "object", *q);
        ok = false;
      } else {
        condition.query = *q;
      }
      if (auto t = entry.find("then"); t == entry.end()) {
        required({"strategy", "conditions", index, "then"});
        ok = false;
      } else if (auto s = stringAt({"strategy", "conditions", index, "then"}, *t)) {
        condition.then = *s;
      } else {
        ok = false;
      }
      if (ok) out.conditions.push_back(std::move(condition));
    }
  }

  void parseCache(const json& raw, ConfigNode& out) {
    if (!raw.is_object()) {
      typeError({"cache"}, "object", raw);
      return;
    }
    const json cache = normaliseKeys(raw);
    CacheSettings settings;
    if (auto it = cache.find("mode"); it == cache.end()) {
      required({"cache", "mode"});
    } else if (auto s = stringAt({"cache", "mode"}, *it)) {
      if (*s == "simple" || *s == "semantic") {
        settings.mode = *s;
      } else {
        problem({"cache", "mode"}, kCacheModeMessage);
      }
    }
    if (auto it = cache.find("max_age"); it != cache.end()) {
      if (auto age = nonNegative({"cache", "max_age"}, *it))
        settings.max_age_s = clampToInt64(*age);
    }
    out.cache = std::move(settings);
  }

  void parseRetry(const json& raw, ConfigNode& out) {
    if (!raw.is_object()) {
      typeError({"retry"}, "object", raw);
      return;
    }
    const json retry = normaliseKeys(raw);
    RetrySettings settings;
    if (auto it = retry.find("attempts"); it == retry.end()) {
      required({"retry", "attempts"});
    } else if (!it->is_number()) {
      typeError({"retry", "attempts"}, "number", *it);
    } else {
      const double d = it->get<double>();
      if (std::floor(d) != d) {
        problem({"retry", "attempts"}, "Expected integer, received float");
      } else if (d < 0) {
        problem({"retry", "attempts"}, "Number must be greater than or equal to 0");
      } else if (d > kMaxRetryAttempts) {
        problem({"retry", "attempts"},
                "Number must be less than or equal to " + std::to_string(kMaxRetryAttempts));
      } else {
        settings.attempts = static_cast<int>(d);
      }
    }
    if (auto it = retry.find("on_status_codes"); it != retry.end()) {
      settings.on_status_codes = statusCodes({"retry", "on_status_codes"}, *it);
    }
    if (auto it = retry.find("use_retry_after_header"); it != retry.end()) {
      if (!it->is_boolean()) {
        typeError({"retry", "use_retry_after_header"}, "boolean", *it);
      } else {
        settings.use_retry_after_header = it->get<bool>();
      }
    }
    out.retry = std::move(settings);
  }

  void parseTargets(const json& raw, int depth, ConfigNode& out) {
    if (!raw.is_array()) {
      typeError({"targets"}, "array", raw);
      return;
    }
    if (raw.size() > kMaxTargets) {
      problem({"targets"},
              "Array must contain at most " + std::to_string(kMaxTargets) + " element(s)");
      ++type_errors_;
      return;
    }
    out.targets.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      path_.push_back("targets");
      path_.push_back(std::to_string(i));
      ConfigNode child;
      parseNode(raw[i], depth + 1, child);
      out.targets.push_back(std::move(child));
      path_.pop_back();
      path_.pop_back();
    }
  }

  void parseForwardHeaders(const json& raw, ConfigNode& out) {
    if (!raw.is_array()) {
      typeError({"forward_headers"}, "array", raw);
      return;
    }
    std::vector<std::string> headers;
    bool names_itself = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (auto s = stringAt({"forward_headers", std::to_string(i)}, raw[i])) {
        headers.push_back(lowerAscii(*s));
        if (headers.back() == "x-portkey-forward-headers") names_itself = true;
      }
    }
    if (names_itself) problem({"forward_headers"}, kForwardSelfMessage);
    out.forward_headers = std::move(headers);
  }

  void objectArray(std::string_view key, const json& raw) {
    if (!raw.is_array()) {
      typeError({key}, "array", raw);
      return;
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (!raw[i].is_object()) typeError({key, std::to_string(i)}, "object", raw[i]);
    }
  }

  // Portkey accepts an array of strings or an array of objects (zod union).
  void guardrails(std::string_view key, const json& raw) {
    if (!raw.is_array()) {
      typeError({key}, "array", raw);
      return;
    }
    const bool all_strings =
        std::all_of(raw.begin(), raw.end(), [](const json& v) { return v.is_string(); });
    const bool all_objects =
        std::all_of(raw.begin(), raw.end(), [](const json& v) { return v.is_object(); });
    if (!all_strings && !all_objects) {
      problem({key}, "Invalid input");
      ++type_errors_;
    }
  }

  std::vector<int> statusCodes(Extra extra, const json& raw) {
    std::vector<int> codes;
    if (!raw.is_array()) {
      typeError(extra, "array", raw);
      return codes;
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
      std::vector<std::string_view> at(extra);
      const std::string index = std::to_string(i);
      at.push_back(index);
      const json& v = raw[i];
      if (!v.is_number()) {
        typeError(at, "number", v);
        continue;
      }
      const double d = v.get<double>();
      if (std::floor(d) != d) {
        problem(at, "Expected integer, received float");
      } else if (d < kMinStatus) {
        problem(at, "Number must be greater than or equal to " + std::to_string(kMinStatus));
      } else if (d > kMaxStatus) {
        problem(at, "Number must be less than or equal to " + std::to_string(kMaxStatus));
      } else {
        codes.push_back(static_cast<int>(d));
      }
    }
    return codes;
  }

  std::optional<double> nonNegative(Extra extra, const json& v) {
    if (!v.is_number()) {
      typeError(extra, "number", v);
      return std::nullopt;
    }
    const double d = v.get<double>();
    if (!(d >= 0)) {
      problem(extra, "Number must be greater than or equal to 0");
      return std::nullopt;
    }
    return d;
  }

  std::optional<std::string> stringAt(Extra extra, const json& v) {
    if (!v.is_string()) {
      typeError(extra, "string", v);
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::string providerMessage() const {
    std::string message = "Invalid 'provider' value. Must be one of: ";
    for (std::size_t i = 0; i < options_.provider_ids.size(); ++i) {
      if (i > 0) message += ", ";
      message += options_.provider_ids[i];
    }
    return message;
  }

  template <class Path>
  void typeError(const Path& extra, std::string_view expected, const json& received) {
    ++type_errors_;
    problem(extra, "Expected " + std::string(expected) + ", received " + typeName(received));
  }
  void typeError(Extra extra, std::string_view expected, const json& received) {
    typeError<Extra>(extra, expected, received);
  }

  void required(Extra extra) {
    ++type_errors_;
    problem(extra, "Required");
  }

  // A problem that also stops this branch (counted like a type error).
  void fail(Extra extra, std::string_view message) {
    ++type_errors_;
    problem(extra, message);
  }

  template <class Path>
  void problem(const Path& extra, std::string_view message) {
    if (lines_.size() >= kMaxProblems) {
      ++dropped_;
      return;
    }
    std::string line = "path: ";
    bool first = true;
    const auto append = [&](std::string_view segment) {
      if (!first) line += ',';
      line += segment;
      first = false;
    };
    for (const auto& segment : path_) append(segment);
    for (const auto& segment : extra) append(segment);
    line += ", message: ";
    line += message;
    lines_.push_back(std::move(line));
  }
  void problem(Extra extra, std::string_view message) { problem<Extra>(extra, message); }

  const ConfigParseOptions& options_;
  const SettingsCatalog* catalog_;
  std::optional<CustomHostPolicy> fallback_policy_;
  std::vector<std::string> path_;
  std::vector<std::string> lines_;
  std::size_t dropped_ = 0;
  std::size_t node_count_ = 0;
  int type_errors_ = 0;
};

}  // namespace

std::string toSnakeCase(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 4);
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (!isUpper(c)) {
      out += c;
      continue;
    }
    // "apiKey" -> "api_key"; an acronym stays one word: "openAIKey" -> "open_ai_key".
    const bool after_word = i > 0 && isLowerOrDigit(key[i - 1]);
    const bool acronym_end =
        i > 0 && isUpper(key[i - 1]) && i + 1 < key.size() && isLowerOrDigit(key[i + 1]);
    if ((after_word || acronym_end) && !out.empty() && out.back() != '_') out += '_';
    out += static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Expected<ConfigNode> parseConfig(std::string_view text, const ConfigParseOptions& options) {
  try {
    // nlohmann's parser and destructor are iterative, so a deep document is safe to build here
    // (only to copy or dump); parsing first keeps "not JSON" apart from "too deep".
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) return errors::configNotJson();
    if (!jsonDepthWithin(text)) {
      return errors::invalidConfig({"path: , message: Config is nested too deeply (at most " +
                                    std::to_string(kMaxJsonDepth) + " levels)"});
    }

    Validator validator(options);
    ConfigNode node;
    validator.parseNode(root, 0, node);
    if (validator.hasProblems()) return errors::invalidConfig(validator.takeProblems());

    // As in Portkey, the legacy check runs only once the schema has passed.
    if (auto it = root.find("options"); it != root.end() && truthy(&*it)) {
      return errors::failure(400, std::string(kLegacyMessage));
    }
    return node;
  } catch (const std::exception&) {
    // Only allocation failure can land here; answer like any other bad config.
    return errors::configNotJson();
  }
}

}  // namespace portico
