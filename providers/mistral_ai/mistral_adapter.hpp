#pragma once

#include "openai_compatible/openai_compatible_adapter.hpp"

namespace portico::providers {

// Mistral speaks OpenAI's format with a few documented renames (seed -> random_seed,
// tool_choice "required" -> "any", developer role -> system) and a FIM endpoint chosen by
// x-portkey-mistral-fim-completion: true.
class MistralAdapter : public OpenAiCompatibleAdapter {
 public:
  MistralAdapter();

  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
};

// The body renames; exposed for unit tests.
bool applyMistralRenames(nlohmann::json& body, const ClientRequest& request);

}  // namespace portico::providers
