#include "portico/provider_registry.hpp"

#include <stdexcept>

namespace portico {

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

}  // namespace portico
