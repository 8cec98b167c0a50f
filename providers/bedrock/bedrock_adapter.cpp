#include "bedrock/bedrock_adapter.hpp"

#include <memory>

#include "bedrock/bedrock_call.hpp"

namespace portico::providers {

Expected<ProviderCallPtr> BedrockAdapter::open(const ClientRequest& request,
                                               const Target& target) const {
  auto settings = BedrockSettings::read(target);
  if (!settings) {
    return settings.error();
  }
  return ProviderCallPtr(std::make_unique<BedrockCall>(request, target, std::move(*settings)));
}

bool BedrockAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kEmbeddings:
    case Endpoint::kPassthrough:
    case Endpoint::kMessages:  // natively for Claude, else translated by the gateway
      return true;
    case Endpoint::kCompletions:
    case Endpoint::kResponses:  // served through chat completions by the gateway
      return false;
  }
  return false;
}

bool BedrockAdapter::servesNatively(Endpoint endpoint, std::string_view model) const {
  if (endpoint == Endpoint::kMessages) {
    return bedrock::isClaudeModel(model);
  }
  return supports(endpoint);
}

}  // namespace portico::providers
