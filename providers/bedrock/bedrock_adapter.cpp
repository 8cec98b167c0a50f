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
      return true;
    case Endpoint::kCompletions:
    case Endpoint::kMessages:
      return false;
  }
  return false;
}

}  // namespace portico::providers
