#include "google_adapter.hpp"

namespace portico::providers {

const ProviderSettings& GoogleAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
