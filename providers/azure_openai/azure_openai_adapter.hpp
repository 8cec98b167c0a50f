#pragma once

#include <string>
#include <string_view>

#include "openai_compatible/openai_compatible_adapter.hpp"

namespace portico::providers {

// Azure's data-plane inference API version used when the client names none: the newest dated GA
// release ("Data plane - inference", Latest GA release, in Azure OpenAI's REST reference). Azure's
// newer "v1" API changes the URL shape, so it is opt-in (api_version: "v1"), not the default.
inline constexpr std::string_view kDefaultAzureApiVersion = "2024-10-21";

// The first dated API version that takes stream_options (2024-09-01-preview); streams on older
// versions are sent as the client asked.
inline constexpr std::string_view kFirstAzureStreamUsageVersion = "2024-09-01";

// The target's Azure settings, read once from Target::options (config field, or the
// x-portkey-azure-* header's name).
struct AzureSettings {
  std::string resource_name;  // resource_name, azure_resource_name
  std::string deployment_id;  // deployment_id, azure_deployment_id
  std::string api_version;    // api_version, azure_api_version
  std::string auth_mode;      // azure_auth_mode
  std::string ad_token;       // azure_ad_token, without a "Bearer " prefix
  std::string openai_beta;    // openai_beta

  static AzureSettings read(const Target& target);
};

// azure-openai speaks OpenAI's wire format; only the URL (resource host, deployment path,
// api-version query) and the auth header (api-key, or an Entra ID token as Bearer) differ.
// Answers, streams and errors are relayed like openai's. open() resolves and checks the
// settings and the API version once, for the call.
class AzureOpenAiAdapter : public OpenAiCompatibleAdapter {
 public:
  AzureOpenAiAdapter();
  // Declared in azure_openai_settings.cpp.
  const ProviderSettings& settings() const override;
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
};

}  // namespace portico::providers
