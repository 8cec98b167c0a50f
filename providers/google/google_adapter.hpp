#pragma once

#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

inline constexpr std::string_view kGoogleBaseUrl = "https://generativelanguage.googleapis.com";

// The `google` provider (Gemini API, AI Studio): chat completions and embeddings translated to
// and from generateContent / streamGenerateContent?alt=sse / embedContent /
// batchEmbedContents; other /v1/* paths are passed through below the base URL. The key travels
// in the x-goog-api-key header, never in the URL.
class GoogleAdapter : public ProviderAdapter {
 public:
  std::string_view id() const override { return "google"; }
  bool supports(Endpoint endpoint) const override;
  // Declared in google_settings.cpp.
  const ProviderSettings& settings() const override;
  // Fails without an API key, and for chat and embeddings without a JSON object body naming a
  // model.
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
};

}  // namespace portico::providers
