#include "portico/provider_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace portico {
namespace {

constexpr std::string_view kHeaderPrefix = "x-portkey-";

SettingsCatalog::FieldGroup group(const std::vector<std::string_view>& fields) {
  return SettingsCatalog::FieldGroup(fields.begin(), fields.end());
}

[[noreturn]] void badDeclaration(std::string_view provider_id, const std::string& what) {
  throw std::logic_error("provider " + std::string(provider_id) + " declares " + what);
}

}  // namespace

// SettingsCatalog lives in include/portico/provider_settings.hpp; the registry is its only
// builder, so it is implemented here.
void SettingsCatalog::add(std::string_view provider_id, const ProviderSettings& settings) {
  for (const ProviderSetting& setting : settings.fields) {
    if (setting.name.empty()) {
      badDeclaration(provider_id, "a setting without a name");
    }
    auto [it, inserted] = fields_.try_emplace(std::string(setting.name));
    Field& field = it->second;
    if (inserted) {
      field = Field{std::string(setting.name), setting.type, setting.secret};
    } else if (field.type != setting.type) {
      badDeclaration(provider_id,
                     std::string(setting.name) + " with another type than another provider");
    } else {
      field.secret = field.secret || setting.secret;
    }
    if (setting.header.empty()) {
      continue;
    }
    if (!setting.header.starts_with(kHeaderPrefix)) {
      badDeclaration(provider_id, "the header " + std::string(setting.header) +
                                      " (provider headers start with x-portkey-)");
    }
    auto [header, added] = headers_.try_emplace(std::string(setting.header), setting.name);
    if (!added && header->second != setting.name) {
      badDeclaration(provider_id, "the header " + std::string(setting.header) + " for " +
                                      std::string(setting.name) + ", which names " +
                                      header->second + " elsewhere");
    }
  }

  const auto declared = [&settings](std::string_view name) {
    return std::any_of(settings.fields.begin(), settings.fields.end(),
                       [name](const ProviderSetting& s) { return s.name == name; });
  };
  const auto check = [&](const std::vector<std::string_view>& fields) {
    for (std::string_view name : fields) {
      if (!declared(name)) {
        badDeclaration(provider_id, "a rule on the undeclared setting " + std::string(name));
      }
    }
  };

  for (const CredentialSet& set : settings.credentials) {
    check(set.fields);
    FieldGroup fields = group(set.fields);
    if (!set.any_provider) {
      rules_[std::string(provider_id)].credentials.push_back(std::move(fields));
    } else if (fields.empty()) {
      badDeclaration(provider_id, "an empty credential set for any provider");
    } else if (std::find(any_provider_.begin(), any_provider_.end(), fields) ==
               any_provider_.end()) {
      any_provider_.push_back(std::move(fields));
    }
  }
  for (const RequiredSettings& rule : settings.required) {
    Requirement requirement;
    requirement.message = std::string(rule.message);
    for (const auto& fields : rule.any_of) {
      check(fields);
      requirement.any_of.push_back(group(fields));
    }
    rules_[std::string(provider_id)].required.push_back(std::move(requirement));
  }
}

const SettingsCatalog::Field* SettingsCatalog::field(std::string_view name) const {
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

const SettingsCatalog::Field* SettingsCatalog::fieldForHeader(std::string_view header) const {
  auto it = headers_.find(header);
  return it == headers_.end() ? nullptr : field(it->second);
}

const SettingsCatalog::ProviderRules* SettingsCatalog::rules(std::string_view provider_id) const {
  auto it = rules_.find(provider_id);
  return it == rules_.end() ? nullptr : &it->second;
}

bool SettingsCatalog::isSecret(std::string_view name) const {
  const Field* f = field(name);
  return f != nullptr && f->secret;
}

void ProviderRegistry::add(ProviderAdapterPtr adapter) {
  std::string id(adapter->id());
  auto [it, inserted] = adapters_.emplace(id, std::move(adapter));
  if (!inserted) {
    throw std::logic_error("provider registered twice: " + id);
  }
}

void ProviderRegistry::addAlias(std::string alias, std::string id) {
  if (adapters_.find(id) == adapters_.end() || adapters_.find(alias) != adapters_.end()) {
    throw std::logic_error("bad provider alias: " + alias + " -> " + id);
  }
  aliases_.emplace(std::move(alias), std::move(id));
}

const ProviderAdapter* ProviderRegistry::find(std::string_view id) const {
  if (auto alias = aliases_.find(id); alias != aliases_.end()) {
    id = alias->second;
  }
  auto it = adapters_.find(id);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ProviderRegistry::ids() const {
  std::vector<std::string> out;
  out.reserve(adapters_.size());
  for (const auto& [id, adapter] : adapters_) {
    out.push_back(id);
  }
  return out;
}

std::shared_ptr<const SettingsCatalog> ProviderRegistry::settingsCatalog() const {
  auto catalog = std::make_shared<SettingsCatalog>();
  for (const auto& [id, adapter] : adapters_) {
    catalog->add(id, adapter->settings());
  }
  return catalog;
}

ConfigParseOptions configParseOptions(const ProviderRegistry& registry) {
  ConfigParseOptions options;
  options.provider_ids = registry.ids();
  options.provider_aliases = registry.aliases();
  options.settings = registry.settingsCatalog();
  return options;
}

}  // namespace portico
