#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "keys/virtual_key.hpp"

// How both key stores (SQLite and Postgres) turn a record's columns to text and back: JSON
// columns, the models list and the budget period. Throws StoreError for what a store should
// never hold, with a message that quotes no stored bytes.
namespace portico::keys::store_columns {

BudgetPeriod parsePeriod(const std::string& name);
// `value` as JSON text; StoreError when it holds invalid UTF-8.
std::string jsonText(const nlohmann::json& value, std::string_view column);
nlohmann::json parseJson(const std::string& text, std::string_view column);
// The models column: a JSON array of strings.
std::vector<std::string> parseModels(const std::string& text);

}  // namespace portico::keys::store_columns
