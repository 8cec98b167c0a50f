#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "portico/usage.hpp"

namespace portico::keys {

// USD per million tokens.
struct Price {
  double input = 0;
  double output = 0;
  double cached_input = 0;  // prompt tokens the provider served from its cache
};

// What models cost, for budgets in USD: the table shipped with Portico (default_prices.cpp,
// with the date its prices were read), optionally overridden row by row by a file in the same
// shape: {"date": "...", "models": {"gpt-4o": {"input": 2.5, "output": 10, "cached_input": 1.25}}}.
class PriceTable {
 public:
  static PriceTable builtIn();
  // The built-in table with the file's rows over it; throws std::runtime_error naming the
  // problem when the file cannot be read or has the wrong shape.
  static PriceTable withOverrides(const std::filesystem::path& file);

  // The row for `model`: exact, else the longest row name the model starts with
  // ("gpt-4o-2024-08-06" -> "gpt-4o"), after dropping a "provider/" or "models/" prefix, and
  // Bedrock's "vendor." and "region.vendor." ones ("us.anthropic.claude-3-5-haiku-...").
  std::optional<Price> find(std::string_view model) const;
  // USD for `usage` of `model`; 0 for a model the table does not know.
  double cost(std::string_view model, const Usage& usage) const;
  const std::string& date() const { return date_; }

 private:
  void merge(std::string_view json_text, std::string_view origin);
  std::optional<Price> findName(std::string_view model) const;

  std::map<std::string, Price, std::less<>> rows_;
  std::string date_;
};

// The shipped table's JSON text.
extern const char* const kDefaultPricesJson;

}  // namespace portico::keys
