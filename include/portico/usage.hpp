#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace portico {

// Token counts of one answer, as the provider reported them; unset where it gave none.
struct Usage {
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  std::optional<std::int64_t> cached_tokens;     // prompt tokens served from the provider's cache
  std::optional<std::int64_t> reasoning_tokens;  // completion tokens spent on reasoning

  bool empty() const {
    return !prompt_tokens && !completion_tokens && !cached_tokens && !reasoning_tokens;
  }
  friend bool operator==(const Usage&, const Usage&) = default;
};

// Reads an OpenAI `usage` object: prompt_tokens (or input_tokens), completion_tokens (or
// output_tokens), prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens.
// nullopt when `usage` is not an object or has none of them.
std::optional<Usage> usageFromOpenAi(const nlohmann::json& usage);

// The top-level "usage" object of an OpenAI-shaped JSON document (a completion, a chunk, an
// embedding list), found without parsing the rest of it: answers are only scanned, and only the
// usage object is parsed. nullopt when there is none.
std::optional<Usage> findOpenAiUsage(std::string_view document);

}  // namespace portico
