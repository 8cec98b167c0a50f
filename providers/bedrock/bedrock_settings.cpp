#include "bedrock_adapter.hpp"

namespace portico::providers {

const ProviderSettings& BedrockAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
