#include "keys/key_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <type_traits>
#include <utility>

#include "keys/key_material.hpp"
#include "portico/json_parse.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxNameLength = 100;
constexpr std::size_t kMaxModels = 100;
constexpr std::string_view kIdPrefix = "vk_";
constexpr std::string_view kApiKey = "api_key";
constexpr std::string_view kNeedMasterKey =
    "a master key is needed to store secrets: set PORTICO_MASTER_KEY or --master-key-file";

GatewayError invalid(std::string message) { return errors::failure(400, std::move(message)); }

GatewayError unknownKey(std::string_view ref) {
  return errors::failure(404, "No virtual key named " + std::string(ref));
}

// Runs one store call; its exceptions become the errors the admin API answers. The store's
// message goes to the log only: the caller may be a remote client.
template <class F>
auto storeCall(F&& call) -> Expected<std::invoke_result_t<F>> {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
      call();
      return {};
    } else {
      return call();
    }
  } catch (const DuplicateKeyError&) {
    return errors::failure(409, "A virtual key with this name already exists");
  } catch (const StoreError& e) {
    spdlog::error("key store: {}", e.what());
    // Most likely the store (Postgres) is not answering: a dependency, not this request.
    return errors::failure(503, "The key store is unavailable; see the gateway's log");
  }
}

std::string typeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

GatewayError wrongType(std::string_view member, std::string_view expected, const json& v) {
  return invalid(std::string(member) + ": expected " + std::string(expected) + ", received " +
                 typeName(v));
}

// JavaScript truthiness, as the config parser judges credential fields.
bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_number()) return v.get<double>() != 0;
  return true;
}

std::optional<std::int64_t> wholeNumber(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= INT64_MAX) return v.get<std::int64_t>();
  return std::nullopt;
}

// ---- keySpecFromJson: one parser per member --------------------------------------------------

using MemberParser = Expected<void> (*)(const json&, KeySpec&);

Expected<std::string> requiredString(std::string_view member, const json& v) {
  if (!v.is_string()) return wrongType(member, "string", v);
  return v.get<std::string>();
}

Expected<void> parseName(const json& v, KeySpec& spec) {
  auto s = requiredString("name", v);
  if (!s) return s.error();
  spec.name = std::move(*s);
  return {};
}

Expected<void> parseProvider(const json& v, KeySpec& spec) {
  auto s = requiredString("provider", v);
  if (!s) return s.error();
  spec.provider = std::move(*s);
  return {};
}

Expected<void> parseApiKey(const json& v, KeySpec& spec) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    return wrongType("api_key", "a non-empty string", v);
  }
  spec.api_key = v.get<std::string>();
  return {};
}

Expected<void> parseCustomHost(const json& v, KeySpec& spec) {
  if (v.is_null()) {
    spec.custom_host = "";
    return {};
  }
  auto s = requiredString("custom_host", v);
  if (!s) return s.error();
  spec.custom_host = std::move(*s);
  return {};
}

Expected<void> parseModels(const json& v, KeySpec& spec) {
  std::vector<std::string> models;
  if (!v.is_null() && !v.is_array()) return wrongType("models", "array", v);
  if (v.is_array()) {
    for (const json& m : v) {
      if (!m.is_string()) return wrongType("models", "an array of strings", m);
      models.push_back(m.get<std::string>());
    }
  }
  spec.models = std::move(models);
  return {};
}

Expected<void> parseRpm(const json& v, KeySpec& spec) {
  auto n = wholeNumber(v);
  if (!n) return wrongType("rpm", "a whole number", v);
  spec.rpm = *n;
  return {};
}

Expected<void> parseTpm(const json& v, KeySpec& spec) {
  auto n = wholeNumber(v);
  if (!n) return wrongType("tpm", "a whole number", v);
  spec.tpm = *n;
  return {};
}

Expected<BudgetPeriod> periodFromText(const json& v) {
  if (v.is_string()) {
    if (auto period = periodFromName(v.get_ref<const std::string&>())) return *period;
  }
  return invalid("budget.period: expected \"day\", \"month\" or \"total\"");
}

Expected<void> parseBudget(const json& v, KeySpec& spec) {
  Budget budget;
  if (v.is_null()) {
    spec.budget = budget;
    return {};
  }
  if (!v.is_object()) return wrongType("budget", "object or null", v);
  for (auto it = v.begin(); it != v.end(); ++it) {
    const json& value = it.value();
    if (it.key() == "usd") {
      if (!value.is_number()) return wrongType("budget.usd", "number", value);
      budget.usd = value.get<double>();
    } else if (it.key() == "tokens") {
      auto n = wholeNumber(value);
      if (!n) return wrongType("budget.tokens", "a whole number", value);
      budget.tokens = *n;
    } else if (it.key() == "period") {
      auto period = periodFromText(value);
      if (!period) return period.error();
      budget.period = *period;
    } else {
      return invalid("budget: unknown member '" + it.key() + "'");
    }
  }
  if (budget.empty()) return invalid("budget: set usd or tokens (null removes the budget)");
  spec.budget = budget;
  return {};
}

Expected<void> parseFields(const json& v, KeySpec& spec) {
  if (!v.is_object()) return wrongType("fields", "object", v);
  spec.fields = v;
  return {};
}

Expected<void> parseExpiresAt(const json& v, KeySpec& spec) {
  if (v.is_null()) {
    spec.expires_at = std::optional<std::int64_t>{};
    return {};
  }
  std::optional<std::int64_t> seconds = wholeNumber(v);
  if (v.is_string()) seconds = parseDate(v.get_ref<const std::string&>());
  if (!seconds) {
    return invalid("expires_at: expected unix seconds, \"YYYY-MM-DD\" or null");
  }
  spec.expires_at = seconds;
  return {};
}

Expected<void> parseEnabled(const json& v, KeySpec& spec) {
  if (!v.is_boolean()) return wrongType("enabled", "boolean", v);
  spec.enabled = v.get<bool>();
  return {};
}

Expected<void> parseConfig(const json& v, KeySpec& spec) {
  if (!v.is_null() && !v.is_object()) return wrongType("config", "object or null", v);
  spec.config = v;
  return {};
}

Expected<void> parseMetadata(const json& v, KeySpec& spec) {
  if (!v.is_object()) return wrongType("metadata", "object", v);
  spec.metadata = v;
  return {};
}

const std::map<std::string, MemberParser, std::less<>>& memberParsers() {
  static const std::map<std::string, MemberParser, std::less<>> kParsers = {
      {"name", parseName},        {"provider", parseProvider},
      {"api_key", parseApiKey},   {"custom_host", parseCustomHost},
      {"models", parseModels},    {"rpm", parseRpm},
      {"tpm", parseTpm},          {"budget", parseBudget},
      {"fields", parseFields},    {"expires_at", parseExpiresAt},
      {"enabled", parseEnabled},  {"config", parseConfig},
      {"metadata", parseMetadata}};
  return kParsers;
}

// ---- validation ------------------------------------------------------------------------------

Expected<void> checkName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return invalid("name: must be 1 to " + std::to_string(kMaxNameLength) + " characters");
  }
  const bool has_control = std::any_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
  if (has_control) return invalid("name: must not hold control characters");
  // References starting "vk_" are ids: a name like that could never be looked up.
  if (name.starts_with(kIdPrefix)) return invalid("name: must not start with \"vk_\"");
  return {};
}

bool isHttpUrl(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return false;
  const auto scheme = parsed->scheme_id();
  return (scheme == boost::urls::scheme::http || scheme == boost::urls::scheme::https) &&
         parsed->has_authority() && !parsed->encoded_host().empty();
}

Expected<void> checkModels(const std::vector<std::string>& models) {
  if (models.size() > kMaxModels) {
    return invalid("models: at most " + std::to_string(kMaxModels) + " entries");
  }
  for (const std::string& model : models) {
    if (model.empty()) return invalid("models: an entry is empty");
  }
  return {};
}

Expected<void> checkBudget(const Budget& budget) {
  if (budget.usd && !(std::isfinite(*budget.usd) && *budget.usd > 0)) {
    return invalid("budget.usd: must be more than 0");
  }
  if (budget.tokens && *budget.tokens <= 0) return invalid("budget.tokens: must be more than 0");
  return {};
}

bool fitsType(const SettingsCatalog::Field& field, const json& v) {
  switch (field.type) {
    case SettingType::kString:
      return v.is_string();
    case SettingType::kStringMap:
      return v.is_object() &&
             std::all_of(v.begin(), v.end(), [](const json& m) { return m.is_string(); });
    case SettingType::kAny:
      return true;
  }
  return false;
}

Expected<void> checkFields(const SettingsCatalog& catalog, const json& fields) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const std::string where = "fields." + it.key();
    const SettingsCatalog::Field* field = catalog.field(it.key());
    if (field == nullptr) return invalid(where + ": not a provider setting");
    if (it.value().is_null()) continue;  // removes the setting on update
    if (!fitsType(*field, it.value())) {
      const char* expected = field->type == SettingType::kString ? "string" : "object of strings";
      return wrongType(where, expected, it.value());
    }
  }
  return {};
}

// A key's config is stored and shown in clear: credentials belong in the keys its targets
// name, so a config holding one (anywhere in its tree) is refused.
Expected<void> checkConfig(const SettingsCatalog& catalog, const json& node) {
  if (node.is_array()) {
    for (const json& item : node) {
      if (auto ok = checkConfig(catalog, item); !ok) return ok;
    }
  } else if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "api_key" || catalog.isSecret(it.key())) {
        return invalid("config: " + it.key() +
                       " is a credential; a key's config names other virtual keys instead");
      }
      if (auto ok = checkConfig(catalog, it.value()); !ok) return ok;
    }
  }
  return {};
}

Expected<void> checkSpec(const KeySpec& spec,
                         const SettingsCatalog& catalog,
                         const std::vector<std::string>& provider_ids) {
  if (spec.name) {
    if (auto ok = checkName(*spec.name); !ok) return ok;
  }
  if (spec.provider &&
      std::find(provider_ids.begin(), provider_ids.end(), *spec.provider) == provider_ids.end()) {
    return invalid("provider: '" + *spec.provider + "' is not a registered provider");
  }
  if (spec.custom_host && !spec.custom_host->empty() && !isHttpUrl(*spec.custom_host)) {
    return invalid("custom_host: expected an http or https URL");
  }
  if (spec.models) {
    if (auto ok = checkModels(*spec.models); !ok) return ok;
  }
  if (spec.config) {
    if (auto ok = checkConfig(catalog, *spec.config); !ok) return ok;
  }
  if (spec.rpm && *spec.rpm < 0) return invalid("rpm: must be 0 (unlimited) or more");
  if (spec.tpm && *spec.tpm < 0) return invalid("tpm: must be 0 (unlimited) or more");
  if (spec.budget) {
    if (auto ok = checkBudget(*spec.budget); !ok) return ok;
  }
  if (spec.expires_at && *spec.expires_at && **spec.expires_at < 0) {
    return invalid("expires_at: must not be before 1970");
  }
  if (spec.fields) {
    if (!spec.fields->is_object()) return wrongType("fields", "object", *spec.fields);
    if (auto ok = checkFields(catalog, *spec.fields); !ok) return ok;
  }
  if (spec.config && !spec.config->is_null() && !spec.config->is_object()) {
    return wrongType("config", "object or null", *spec.config);
  }
  if (spec.metadata && !spec.metadata->is_object()) {
    return wrongType("metadata", "object", *spec.metadata);
  }
  return {};
}

std::string describeGroup(const SettingsCatalog::FieldGroup& group) {
  std::string out;
  for (const std::string& field : group) out += (out.empty() ? "" : " and ") + field;
  return out;
}

// The key's settings (non-secret and secret, with api_key) must make some credential set
// complete, and meet the provider's required settings, else every request would fail.
Expected<void> checkCredentials(const SettingsCatalog& catalog,
                                const std::string& provider,
                                const json& settings,
                                bool has_custom_host) {
  const auto complete = [&settings](const SettingsCatalog::FieldGroup& group) {
    return std::all_of(group.begin(), group.end(), [&settings](const std::string& field) {
      auto it = settings.find(field);
      return it != settings.end() && truthy(*it);
    });
  };
  static const SettingsCatalog::ProviderRules kNoRules;
  const auto* found = catalog.rules(provider);
  const auto& rules = found != nullptr ? *found : kNoRules;
  const auto& sets = rules.credentials;
  const auto& anywhere = catalog.anyProviderCredentials();
  // A custom host without any key: a keyless self-hosted server (as the config parser allows).
  const bool ok = complete({std::string(kApiKey)}) || has_custom_host ||
                  std::any_of(sets.begin(), sets.end(), complete) ||
                  std::any_of(anywhere.begin(), anywhere.end(), complete);
  if (!ok) {
    std::string options = "api_key";
    for (const auto& group : sets) options += ", or " + describeGroup(group);
    for (const auto& group : anywhere) options += ", or " + describeGroup(group);
    return invalid("provider '" + provider + "' needs credentials: " + options);
  }
  for (const auto& requirement : rules.required) {
    if (!std::any_of(requirement.any_of.begin(), requirement.any_of.end(), complete)) {
      return invalid(requirement.message);
    }
  }
  return {};
}

// Splits provider settings into the ones kept in clear and the ones sealed.
void splitFields(const SettingsCatalog& catalog, const json& fields, json& plain, json& secret) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    json& target = catalog.isSecret(it.key()) ? secret : plain;
    if (it.value().is_null()) {
      target.erase(it.key());
    } else {
      target[it.key()] = it.value();
    }
  }
}

bool touchesSecrets(const SettingsCatalog& catalog, const KeySpec& spec) {
  if (spec.api_key) return true;
  if (!spec.fields) return false;
  for (auto it = spec.fields->begin(); it != spec.fields->end(); ++it) {
    if (catalog.isSecret(it.key())) return true;
  }
  return false;
}

Expected<SealedSecrets> sealSecrets(const std::optional<MasterKey>& master,
                                    const json& secrets,
                                    const std::string& record_id) {
  if (secrets.empty()) return SealedSecrets{};
  if (!master) return invalid(std::string(kNeedMasterKey));
  return SealedSecrets{seal(*master, secrets.dump(), record_id), master->id()};
}

std::string keyLabel(const KeyRecord& record) { return record.name + " (" + record.id + ")"; }

// The sealed secrets of a record as a JSON object ({} when it has none).
Expected<json> openSecrets(const std::optional<MasterKey>& master, const KeyRecord& record) {
  if (record.secrets.sealed.empty()) return json::object();
  const std::string& needed = record.secrets.master_key_id;
  if (!master) {
    return invalid("the secrets of " + keyLabel(record) + " are sealed under master key " + needed +
                   ": set PORTICO_MASTER_KEY or --master-key-file");
  }
  auto text = unseal(*master, record.secrets.sealed, record.id);
  json secrets = text ? parseJson(*text) : json();
  if (!secrets.is_object()) {
    return invalid("the secrets of " + keyLabel(record) + " do not open under master key " +
                   master->id() + "; they need master key " + needed);
  }
  return secrets;
}

json mergedSettings(const json& fields,
                    const json& secrets,
                    const std::optional<std::string>& key) {
  json settings = fields;
  for (auto it = secrets.begin(); it != secrets.end(); ++it) settings[it.key()] = it.value();
  if (key) settings[std::string(kApiKey)] = *key;
  return settings;
}

std::int64_t systemNow() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

bool isDay(std::string_view text) { return text.size() == 10 && parseDate(text).has_value(); }

std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t count) {
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Applies the members that need no sealing.
void applyPlainMembers(const KeySpec& spec, KeyRecord& record) {
  if (spec.name) record.name = *spec.name;
  if (spec.provider) record.provider = *spec.provider;
  if (spec.custom_host) record.custom_host = *spec.custom_host;
  if (spec.models) record.models = *spec.models;
  if (spec.rpm) record.rpm = *spec.rpm;
  if (spec.tpm) record.tpm = *spec.tpm;
  if (spec.budget) record.budget = *spec.budget;
  if (spec.expires_at) record.expires_at = *spec.expires_at;
  if (spec.enabled) record.enabled = *spec.enabled;
  if (spec.config) record.config = *spec.config;
  if (spec.metadata) record.metadata = *spec.metadata;
}

}  // namespace

Expected<KeySpec> keySpecFromJson(const json& body) {
  if (!body.is_object()) return wrongType("body", "object", body);
  KeySpec spec;
  const auto& parsers = memberParsers();
  for (auto it = body.begin(); it != body.end(); ++it) {
    auto parser = parsers.find(it.key());
    if (parser == parsers.end()) return invalid("unknown member '" + it.key() + "'");
    if (auto ok = parser->second(it.value(), spec); !ok) return ok.error();
  }
  return spec;
}

std::optional<std::int64_t> parseDate(std::string_view text) {
  const bool date_only = text.size() == 10;
  const bool date_time =
      text.size() == 20 && text[10] == 'T' && text[13] == ':' && text[16] == ':' && text[19] == 'Z';
  if ((!date_only && !date_time) || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto year = digits(text, 0, 4);
  auto month = digits(text, 5, 2);
  auto day = digits(text, 8, 2);
  if (!year || !month || !day) return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{*year}, std::chrono::month(*month),
                            std::chrono::day(*day)};
  if (!date.ok()) return std::nullopt;
  std::int64_t seconds =
      duration_cast<std::chrono::seconds>(sys_days{date}.time_since_epoch()).count();
  if (date_only) return seconds;
  auto hours = digits(text, 11, 2);
  auto minutes = digits(text, 14, 2);
  auto secs = digits(text, 17, 2);
  if (!hours || !minutes || !secs || *hours > 23 || *minutes > 59 || *secs > 59) {
    return std::nullopt;
  }
  return seconds + *hours * 3600 + *minutes * 60 + *secs;
}

KeyService::KeyService(KeyStore& store,
                       const SettingsCatalog& catalog,
                       std::vector<std::string> provider_ids,
                       std::optional<MasterKey> master,
                       std::function<std::int64_t()> now)
    : store_(store),
      catalog_(catalog),
      provider_ids_(std::move(provider_ids)),
      master_(std::move(master)),
      now_(now ? std::move(now) : std::function<std::int64_t()>(systemNow)) {}

Expected<KeyService::Created> KeyService::create(const KeySpec& spec) {
  if (!spec.name) return invalid("name: required");
  if (!spec.provider) return invalid("provider: required");
  if (auto ok = checkSpec(spec, catalog_, provider_ids_); !ok) return ok.error();
  auto existing = storeCall([&] { return store_.findByName(*spec.name); });
  if (!existing) return existing.error();
  if (*existing) return errors::failure(409, "A virtual key named " + *spec.name + " exists");

  KeyRecord record;
  record.id = newKeyId();
  applyPlainMembers(spec, record);
  json secrets = json::object();
  if (spec.fields) splitFields(catalog_, *spec.fields, record.fields, secrets);
  if (auto ok = checkCredentials(catalog_, record.provider,
                                 mergedSettings(record.fields, secrets, spec.api_key),
                                 !record.custom_host.empty());
      !ok) {
    return ok.error();
  }
  if (spec.api_key) secrets[std::string(kApiKey)] = *spec.api_key;
  auto sealed = sealSecrets(master_, secrets, record.id);
  if (!sealed) return sealed.error();
  record.secrets = std::move(*sealed);

  NewKey key = generateKey();
  record.key_hash = key.hash;
  record.key_prefix = key.prefix;
  record.created_at = record.updated_at = now_();
  if (auto ok = storeCall([&] { store_.insert(record); }); !ok) return ok.error();
  return Created{std::move(record), std::move(key.key)};
}

Expected<KeyRecord> KeyService::update(std::string_view ref, const KeySpec& spec) {
  auto found = get(ref);
  if (!found) return found.error();
  KeyRecord record = std::move(*found);
  if (auto ok = checkSpec(spec, catalog_, provider_ids_); !ok) return ok.error();
  if (spec.name && *spec.name != record.name) {
    auto other = storeCall([&] { return store_.findByName(*spec.name); });
    if (!other) return other.error();
    if (*other) return errors::failure(409, "A virtual key named " + *spec.name + " exists");
  }
  applyPlainMembers(spec, record);

  // The secrets as they will be: needed to re-seal, and shown to the credential check when
  // they open (without the master key, a change that leaves them alone skips that check).
  const bool reseal = touchesSecrets(catalog_, spec);
  auto opened = openSecrets(master_, record);
  if (!opened && reseal) return opened.error();
  std::optional<json> secrets;
  if (opened) secrets = std::move(*opened);
  json ignored_secrets = json::object();
  if (spec.fields) {
    splitFields(catalog_, *spec.fields, record.fields, secrets ? *secrets : ignored_secrets);
  }
  if (spec.api_key) (*secrets)[std::string(kApiKey)] = *spec.api_key;
  const bool credentials_changed = spec.provider || spec.api_key || spec.fields || spec.custom_host;
  if (credentials_changed && secrets) {
    if (auto ok = checkCredentials(catalog_, record.provider,
                                   mergedSettings(record.fields, *secrets, std::nullopt),
                                   !record.custom_host.empty());
        !ok) {
      return ok.error();
    }
  }
  if (reseal) {
    auto sealed = sealSecrets(master_, *secrets, record.id);
    if (!sealed) return sealed.error();
    record.secrets = std::move(*sealed);
  }
  record.updated_at = now_();
  auto updated = storeCall([&] { return store_.update(record); });
  if (!updated) return updated.error();
  if (!*updated) return unknownKey(ref);
  return record;
}

Expected<KeyService::Created> KeyService::rotate(std::string_view ref) {
  auto found = get(ref);
  if (!found) return found.error();
  KeyRecord record = std::move(*found);
  NewKey key = generateKey();
  record.key_hash = key.hash;
  record.key_prefix = key.prefix;
  record.updated_at = now_();
  auto updated = storeCall([&] { return store_.update(record); });
  if (!updated) return updated.error();
  if (!*updated) return unknownKey(ref);
  return Created{std::move(record), std::move(key.key)};
}

Expected<KeyRecord> KeyService::get(std::string_view ref) const {
  auto found = storeCall(
      [&] { return ref.starts_with(kIdPrefix) ? store_.find(ref) : store_.findByName(ref); });
  if (!found) return found.error();
  if (!*found) return unknownKey(ref);
  return std::move(**found);
}

Expected<bool> KeyService::remove(std::string_view ref) {
  auto found = get(ref);
  if (!found) return found.error();
  auto removed = storeCall([&] { return store_.remove(found->id); });
  if (!removed) return removed.error();
  if (!*removed) return unknownKey(ref);
  return true;
}

std::vector<KeyRecord> KeyService::list() const { return store_.all(); }

Expected<std::vector<UsageRow>> KeyService::usage(std::string_view ref,
                                                  std::string_view from_day,
                                                  std::string_view to_day) const {
  if (!from_day.empty() && !isDay(from_day)) return invalid("from: expected YYYY-MM-DD");
  if (!to_day.empty() && !isDay(to_day)) return invalid("to: expected YYYY-MM-DD");
  std::string key_id;
  if (!ref.empty()) {
    auto found = get(ref);
    if (!found) return found.error();
    key_id = found->id;
  }
  return storeCall([&] { return store_.usage(key_id, from_day, to_day); });
}

Expected<int> KeyService::rekey(const MasterKey& next) {
  auto records = storeCall([&] { return store_.all(); });
  if (!records) return records.error();
  // Opens everything first, so a key that does not open changes nothing.
  std::vector<std::pair<KeyRecord, json>> pending;
  for (KeyRecord& record : *records) {
    if (record.secrets.sealed.empty() || record.secrets.master_key_id == next.id()) continue;
    auto secrets = openSecrets(master_, record);
    if (!secrets) return secrets.error();
    pending.emplace_back(std::move(record), std::move(*secrets));
  }
  for (auto& [record, secrets] : pending) {
    record.secrets = SealedSecrets{seal(next, secrets.dump(), record.id), next.id()};
    record.updated_at = now_();
    auto updated = storeCall([&] { return store_.update(record); });
    if (!updated) return updated.error();
  }
  return static_cast<int>(pending.size());
}

json keyView(const KeyRecord& record) {
  json budget = nullptr;
  if (!record.budget.empty()) {
    budget = {{"usd", record.budget.usd ? json(*record.budget.usd) : json()},
              {"tokens", record.budget.tokens ? json(*record.budget.tokens) : json()},
              {"period", periodName(record.budget.period)}};
  }
  const bool has_secrets = !record.secrets.sealed.empty();
  return {{"id", record.id},
          {"object", "virtual_key"},
          {"name", record.name},
          {"provider", record.provider},
          {"key_prefix", record.key_prefix},
          {"fields", record.fields},
          {"has_secrets", has_secrets},
          {"master_key_id", has_secrets ? json(record.secrets.master_key_id) : json()},
          {"custom_host", record.custom_host.empty() ? json() : json(record.custom_host)},
          {"config", record.config},
          {"models", record.models},
          {"rpm", record.rpm},
          {"tpm", record.tpm},
          {"budget", std::move(budget)},
          {"expires_at", record.expires_at ? json(*record.expires_at) : json()},
          {"enabled", record.enabled},
          {"metadata", record.metadata},
          {"created_at", record.created_at},
          {"updated_at", record.updated_at}};
}

json usageView(const std::vector<UsageRow>& rows) {
  json out = json::array();
  for (const UsageRow& row : rows) {
    out.push_back({{"key_id", row.key_id},
                   {"day", row.day},
                   {"model", row.model},
                   {"requests", row.requests},
                   {"prompt_tokens", row.prompt_tokens},
                   {"completion_tokens", row.completion_tokens},
                   {"cached_tokens", row.cached_tokens},
                   {"cost_usd", row.cost_usd}});
  }
  return out;
}

}  // namespace portico::keys
