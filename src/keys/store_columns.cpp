#include "keys/store_columns.hpp"

#include "keys/key_store.hpp"

namespace portico::keys::store_columns {

using nlohmann::json;

BudgetPeriod parsePeriod(const std::string& name) {
  if (auto period = periodFromName(name)) return *period;
  throw StoreError("key store: unknown budget period '" + name + "'");
}

// nlohmann's own message may quote the offending bytes, so it is not passed on.
std::string jsonText(const json& value, std::string_view column) {
  try {
    return value.dump();
  } catch (const json::exception&) {
    throw StoreError("key store: " + std::string(column) + " holds invalid UTF-8");
  }
}

json parseJson(const std::string& text, std::string_view column) {
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    throw StoreError("key store: malformed JSON in column " + std::string(column));
  }
  return value;
}

std::vector<std::string> parseModels(const std::string& text) {
  const json models = parseJson(text, "models");
  if (!models.is_array()) {
    throw StoreError("key store: column models is not a JSON array");
  }
  std::vector<std::string> out;
  for (const auto& model : models) {
    if (!model.is_string()) {
      throw StoreError("key store: column models holds a non-string entry");
    }
    out.push_back(model.get<std::string>());
  }
  return out;
}

}  // namespace portico::keys::store_columns
