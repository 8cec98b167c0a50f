#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "portico/provider_adapter.hpp"

namespace portico {

// Provider id -> adapter. Filled once at start-up, read-only afterwards (safe to share).
class ProviderRegistry {
 public:
  // Adds an adapter under its id(). A duplicate id is a programming error and throws.
  void add(ProviderAdapterPtr adapter);
  const ProviderAdapter* find(std::string_view id) const;
  // All ids, sorted.
  std::vector<std::string> ids() const;

 private:
  std::map<std::string, ProviderAdapterPtr, std::less<>> adapters_;
};

// The one explicit table of built-in providers (providers/builtin_providers.cpp).
void registerBuiltinProviders(ProviderRegistry& registry);

}  // namespace portico
