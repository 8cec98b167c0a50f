#include "vertex_adapter.hpp"

namespace portico::providers {

const ProviderSettings& VertexAdapter::settings() const {
  static const ProviderSettings kSettings;
  return kSettings;
}

}  // namespace portico::providers
