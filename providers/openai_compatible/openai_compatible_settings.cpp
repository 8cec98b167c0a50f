#include "openai_compatible_adapter.hpp"

namespace portico::providers {

// Chosen by what the row does: every row shares one adapter class.
const ProviderSettings& OpenAiCompatibleAdapter::settings() const {
  // Rows that send OpenAI-Organization / OpenAI-Project / OpenAI-Beta (openai).
  static const ProviderSettings kOpenAiHeaders{
      .fields =
          {
              {.name = "openai_organization", .header = "x-portkey-openai-organization"},
              {.name = "openai_project", .header = "x-portkey-openai-project"},
              {.name = "openai_beta", .type = SettingType::kAny, .header = "x-portkey-openai-beta"},
          },
  };
  // Keyless self-hosted servers (ollama): a config needs no credentials.
  static const ProviderSettings kKeyless{.credentials = {CredentialSet{}}};
  static const ProviderSettings kNone;
  if (spec_.openai_headers) {
    return kOpenAiHeaders;
  }
  return spec_.auth == AuthStyle::kNone ? kKeyless : kNone;
}

}  // namespace portico::providers
