#include "google_adapter.hpp"

namespace portico::providers {

// Gemini takes nothing but the API key.
const ProviderSettings& GoogleAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
