#include "keys/price_table.hpp"

namespace portico::keys {

// List prices in USD per million tokens, from the providers' public pricing pages as of the
// date below. Operators with negotiated prices, or models not listed, override rows with
// --prices FILE. A model missing here costs 0 in USD budgets (token budgets still hold).
const char* const kDefaultPricesJson = R"json({
  "date": "2026-11-01",
  "models": {
    "gpt-4o": {"input": 2.5, "output": 10, "cached_input": 1.25},
    "gpt-4o-mini": {"input": 0.15, "output": 0.6, "cached_input": 0.075},
    "gpt-4.1": {"input": 2, "output": 8, "cached_input": 0.5},
    "gpt-4.1-mini": {"input": 0.4, "output": 1.6, "cached_input": 0.1},
    "gpt-4.1-nano": {"input": 0.1, "output": 0.4, "cached_input": 0.025},
    "gpt-4-turbo": {"input": 10, "output": 30},
    "gpt-3.5-turbo": {"input": 0.5, "output": 1.5},
    "o1": {"input": 15, "output": 60, "cached_input": 7.5},
    "o1-mini": {"input": 1.1, "output": 4.4, "cached_input": 0.55},
    "o3": {"input": 2, "output": 8, "cached_input": 0.5},
    "o3-mini": {"input": 1.1, "output": 4.4, "cached_input": 0.55},
    "o4-mini": {"input": 1.1, "output": 4.4, "cached_input": 0.275},
    "text-embedding-3-small": {"input": 0.02, "output": 0},
    "text-embedding-3-large": {"input": 0.13, "output": 0},
    "text-embedding-ada-002": {"input": 0.1, "output": 0},
    "claude-opus-4": {"input": 15, "output": 75, "cached_input": 1.5},
    "claude-sonnet-4": {"input": 3, "output": 15, "cached_input": 0.3},
    "claude-3-7-sonnet": {"input": 3, "output": 15, "cached_input": 0.3},
    "claude-3-5-sonnet": {"input": 3, "output": 15, "cached_input": 0.3},
    "claude-3-5-haiku": {"input": 0.8, "output": 4, "cached_input": 0.08},
    "claude-3-haiku": {"input": 0.25, "output": 1.25, "cached_input": 0.03},
    "claude-3-opus": {"input": 15, "output": 75, "cached_input": 1.5},
    "gemini-2.5-pro": {"input": 1.25, "output": 10, "cached_input": 0.31},
    "gemini-2.5-flash": {"input": 0.3, "output": 2.5, "cached_input": 0.075},
    "gemini-2.0-flash": {"input": 0.1, "output": 0.4, "cached_input": 0.025},
    "gemini-1.5-pro": {"input": 1.25, "output": 5},
    "gemini-1.5-flash": {"input": 0.075, "output": 0.3},
    "command-r-plus": {"input": 2.5, "output": 10},
    "command-r": {"input": 0.15, "output": 0.6},
    "command-a": {"input": 2.5, "output": 10},
    "mistral-large": {"input": 2, "output": 6},
    "mistral-small": {"input": 0.1, "output": 0.3},
    "llama-3.3-70b-versatile": {"input": 0.59, "output": 0.79},
    "llama-3.1-8b-instant": {"input": 0.05, "output": 0.08},
    "deepseek-chat": {"input": 0.27, "output": 1.1, "cached_input": 0.07},
    "deepseek-reasoner": {"input": 0.55, "output": 2.19, "cached_input": 0.14}
  }
})json";

}  // namespace portico::keys
