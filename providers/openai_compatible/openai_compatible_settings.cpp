#include "openai_compatible_adapter.hpp"

namespace portico::providers {

const ProviderSettings& OpenAiCompatibleAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
