#pragma once

#include "portico/provider_adapter.hpp"

namespace portico::apis {

// Whether the gateway can serve `endpoint` through any provider's chat completions: the
// Responses API and Anthropic's Messages API.
bool translatesThroughChat(Endpoint endpoint);

// A provider seen through another API: the client speaks `client_api` (Responses or Messages),
// the provider's own chat completions mapping does the rest. Each call it opens turns the
// client's body into a chat body, opens the provider's chat call on it, and turns the answer,
// stream or error back. Credentials and settings are the provider's. Made per leaf.
class ChatTranslatedAdapter final : public ProviderAdapter {
 public:
  ChatTranslatedAdapter(const ProviderAdapter& chat, Endpoint client_api)
      : chat_(chat), client_api_(client_api) {}

  std::string_view id() const override { return chat_.id(); }
  bool supports(Endpoint endpoint) const override { return endpoint == client_api_; }
  const ProviderSettings& settings() const override { return chat_.settings(); }
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;

  std::optional<std::string> tokenCacheKey(const Target& target) const override {
    return chat_.tokenCacheKey(target);
  }
  Expected<TokenExchange> tokenExchange(const Target& target,
                                        std::chrono::system_clock::time_point now) const override {
    return chat_.tokenExchange(target, now);
  }
  Expected<FetchedToken> parseTokenReply(const UpstreamReply& reply) const override {
    return chat_.parseTokenReply(reply);
  }

 private:
  const ProviderAdapter& chat_;
  const Endpoint client_api_;
};

}  // namespace portico::apis
