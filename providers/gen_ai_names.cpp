#include "portico/gen_ai_names.hpp"

#include <array>
#include <utility>

namespace portico {
namespace {

// Portkey id (and the aliases the registry accepts) -> gen_ai.provider.name well-known value.
constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kNames{{
    {"openai", "openai"},
    {"anthropic", "anthropic"},
    {"bedrock", "aws.bedrock"},
    {"azure-openai", "azure.ai.openai"},
    {"azure-ai", "azure.ai.inference"},
    {"vertex-ai", "gcp.vertex_ai"},
    {"google", "gcp.gemini"},
    {"cohere", "cohere"},
    {"mistral-ai", "mistral_ai"},
    {"mistral", "mistral_ai"},
    {"groq", "groq"},
    {"deepseek", "deepseek"},
    {"perplexity-ai", "perplexity"},
    {"perplexity", "perplexity"},
    {"x-ai", "x_ai"},
    {"watsonx", "ibm.watsonx.ai"},
    {"ibm-watsonx", "ibm.watsonx.ai"},
}};

}  // namespace

std::string_view genAiProviderName(std::string_view portkey_provider_id) {
  for (const auto& [id, name] : kNames) {
    if (id == portkey_provider_id) {
      return name;
    }
  }
  return portkey_provider_id;
}

}  // namespace portico
