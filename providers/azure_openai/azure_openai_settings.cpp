#include "azure_openai_adapter.hpp"

namespace portico::providers {

const ProviderSettings& AzureOpenAiAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
