#include "cohere_adapter.hpp"

namespace portico::providers {

const ProviderSettings& CohereAdapter::settings() const {
  static const ProviderSettings kSettings{
      .fields =
          {
              // The embed input_type when the body has none.
              {.name = "input_type",
               .type = SettingType::kAny,
               .header = "x-portkey-cohere-input-type"},
          },
  };
  return kSettings;
}

}  // namespace portico::providers
