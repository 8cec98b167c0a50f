#include "cohere_adapter.hpp"

namespace portico::providers {

const ProviderSettings& CohereAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
