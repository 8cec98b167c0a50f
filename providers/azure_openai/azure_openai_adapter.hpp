#pragma once

#include <string_view>

#include "openai_compatible/openai_compatible_adapter.hpp"

namespace portico::providers {

// Azure's data-plane inference API version used when the client names none: the newest dated GA
// release ("Data plane - inference", Latest GA release, in Azure OpenAI's REST reference). Azure's
// newer "v1" API changes the URL shape, so it is opt-in (api_version: "v1"), not the default.
inline constexpr std::string_view kDefaultAzureApiVersion = "2024-10-21";

// azure-openai speaks OpenAI's wire format; only the URL (resource host, deployment path,
// api-version query) and the auth header (api-key, or an Entra ID token as Bearer) differ.
// Answers, streams and errors are relayed like openai's.
class AzureOpenAiAdapter : public OpenAiCompatibleAdapter {
 public:
  AzureOpenAiAdapter();
  // Declared in azure_openai_settings.cpp.
  const ProviderSettings& settings() const override;

  Expected<UpstreamRequest> buildRequest(const ClientRequest& request,
                                         const Target& target) const override;

 protected:
  Expected<bool> applyAuth(const ClientRequest& request,
                           const Target& target,
                           UpstreamRequest& out) const override;
  std::string pathFor(const ClientRequest& request, const Target& target) const override;
};

}  // namespace portico::providers
