// The one table of built-in providers. Adding a provider: one line here (or one row in
// openai_compatible/provider_table.cpp for an OpenAI-compatible one).
#include <memory>

#include "anthropic/anthropic_adapter.hpp"
#include "azure_openai/azure_openai_adapter.hpp"
#include "bedrock/bedrock_adapter.hpp"
#include "cohere/cohere_adapter.hpp"
#include "google/google_adapter.hpp"
#include "mistral_ai/mistral_adapter.hpp"
#include "openai_compatible/openai_compatible_adapter.hpp"
#include "portico/provider_registry.hpp"
#include "vertex_ai/vertex_adapter.hpp"

namespace portico {

void registerBuiltinProviders(ProviderRegistry& registry) {
  for (const auto& spec : providers::openAiCompatibleSpecs()) {
    registry.add(std::make_unique<providers::OpenAiCompatibleAdapter>(spec));
  }
  registry.add(std::make_unique<providers::MistralAdapter>());
  registry.add(std::make_unique<providers::AzureOpenAiAdapter>());
  registry.add(std::make_unique<providers::CohereAdapter>());
  registry.add(std::make_unique<providers::AnthropicAdapter>());
  registry.add(std::make_unique<providers::BedrockAdapter>());
  registry.add(std::make_unique<providers::GoogleAdapter>());
  registry.add(std::make_unique<providers::VertexAdapter>());
  // The ids Portkey's provider list documents for these two.
  registry.addAlias("mistral", "mistral-ai");
  registry.addAlias("perplexity", "perplexity-ai");
}

}  // namespace portico
