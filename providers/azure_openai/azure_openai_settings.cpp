#include "azure_openai_adapter.hpp"

namespace portico::providers {

const ProviderSettings& AzureOpenAiAdapter::settings() const {
  static const ProviderSettings kSettings{
      .fields =
          {
              {.name = "resource_name",
               .type = SettingType::kAny,
               .header = "x-portkey-azure-resource-name"},
              {.name = "deployment_id", .header = "x-portkey-azure-deployment-id"},
              {.name = "api_version", .header = "x-portkey-azure-api-version"},
              {.name = "azure_ad_token", .header = "x-portkey-azure-ad-token", .secret = true},
              {.name = "azure_auth_mode", .header = "x-portkey-azure-auth-mode"},
              {.name = "azure_entra_client_id", .header = "x-portkey-azure-entra-client-id"},
              {.name = "azure_entra_client_secret",
               .header = "x-portkey-azure-entra-client-secret",
               .secret = true},
              {.name = "azure_entra_tenant_id", .header = "x-portkey-azure-entra-tenant-id"},
              {.name = "azure_model_name", .header = "x-portkey-azure-model-name"},
              {.name = "openai_beta", .type = SettingType::kAny, .header = "x-portkey-openai-beta"},
          },
      .credentials =
          {
              {.fields = {"azure_ad_token"}},
              // An auth mode (managed identity, Entra) counts on any node, as in Portkey.
              {.fields = {"azure_auth_mode"}, .any_provider = true},
          },
  };
  return kSettings;
}

}  // namespace portico::providers
