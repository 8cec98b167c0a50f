#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portico/config.hpp"
#include "portico/provider_adapter.hpp"
#include "portico/provider_settings.hpp"

namespace portico {

// Provider id -> adapter. Filled once at start-up, read-only afterwards (safe to share).
class ProviderRegistry {
 public:
  // Adds an adapter under its id(). A duplicate id is a programming error and throws.
  void add(ProviderAdapterPtr adapter);
  // Another name for a registered id (the names Portkey's documentation uses, e.g. "mistral" for
  // "mistral-ai"). Requests may name either; answers name the id.
  void addAlias(std::string alias, std::string id);
  // Looks up an id or an alias.
  const ProviderAdapter* find(std::string_view id) const;
  // All ids, sorted (aliases not included).
  std::vector<std::string> ids() const;
  // Alias -> id.
  const std::map<std::string, std::string, std::less<>>& aliases() const { return aliases_; }
  // Every adapter's settings() merged into one catalog. Builds it anew on each call: call it once
  // at start-up. Throws std::logic_error when two providers declare a setting inconsistently.
  std::shared_ptr<const SettingsCatalog> settingsCatalog() const;

 private:
  std::map<std::string, ProviderAdapterPtr, std::less<>> adapters_;
  std::map<std::string, std::string, std::less<>> aliases_;
};

// What the config and header parsers need from the registry: ids(), aliases() and
// settingsCatalog(). is_valid_custom_host is left for the caller to set. Call once at start-up.
ConfigParseOptions configParseOptions(const ProviderRegistry& registry);

// The one explicit table of built-in providers (providers/builtin_providers.cpp).
void registerBuiltinProviders(ProviderRegistry& registry);

}  // namespace portico
