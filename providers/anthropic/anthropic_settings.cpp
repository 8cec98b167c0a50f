#include "anthropic_adapter.hpp"

namespace portico::providers {

const ProviderSettings& AnthropicAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
