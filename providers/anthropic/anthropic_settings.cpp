#include "anthropic_adapter.hpp"

namespace portico::providers {

const ProviderSettings& AnthropicAdapter::settings() const {
  static const ProviderSettings kSettings{
      .fields =
          {
              // Also taken from the client's own anthropic-version / anthropic-beta headers.
              {.name = "anthropic_version",
               .type = SettingType::kAny,
               .header = "x-portkey-anthropic-version"},
              {.name = "anthropic_beta",
               .type = SettingType::kAny,
               .header = "x-portkey-anthropic-beta"},
              // A number in a config, a string in the header.
              {.name = "default_max_tokens",
               .type = SettingType::kAny,
               .header = "x-portkey-default-max-tokens"},
          },
  };
  return kSettings;
}

}  // namespace portico::providers
