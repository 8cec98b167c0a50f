#include "keys/price_table.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "portico/json_parse.hpp"

namespace portico::keys {
namespace {

double priceMember(const nlohmann::json& row, const char* name, std::string_view model) {
  auto it = row.find(name);
  if (it == row.end()) {
    return 0;
  }
  if (!it->is_number() || it->get<double>() < 0) {
    throw std::runtime_error("price of " + std::string(model) + ": " + name +
                             " must be a number >= 0");
  }
  return it->get<double>();
}

}  // namespace

PriceTable PriceTable::builtIn() {
  PriceTable table;
  table.merge(kDefaultPricesJson, "the built-in price table");
  return table;
}

PriceTable PriceTable::withOverrides(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    throw std::runtime_error("cannot read the price file " + file.string());
  }
  std::stringstream text;
  text << in.rdbuf();
  PriceTable table = builtIn();
  table.merge(text.str(), file.string());
  return table;
}

void PriceTable::merge(std::string_view json_text, std::string_view origin) {
  const nlohmann::json doc = parseJson(json_text);
  if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_object()) {
    throw std::runtime_error(std::string(origin) +
                             ": expected {\"date\": ..., \"models\": {name: {input, output}}}");
  }
  if (auto date = doc.find("date"); date != doc.end() && date->is_string()) {
    date_ = date->get<std::string>();
  }
  for (const auto& [model, row] : doc["models"].items()) {
    if (!row.is_object()) {
      throw std::runtime_error(std::string(origin) + ": the row of " + model +
                               " must be an object");
    }
    rows_[model] = Price{priceMember(row, "input", model), priceMember(row, "output", model),
                         priceMember(row, "cached_input", model)};
  }
}

std::optional<Price> PriceTable::find(std::string_view model) const {
  if (auto slash = model.rfind('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);  // "openai/gpt-4o", "models/gemini-2.5-pro"
  }
  if (model.empty()) {
    return std::nullopt;
  }
  // Bedrock names models "<vendor>.<model>" and cross-region profiles "<region>.<vendor>.
  // <model>": try the name, then without one and two such leading parts.
  for (int dropped = 0; dropped < 3; ++dropped) {
    if (auto price = findName(model)) {
      return price;
    }
    const std::size_t dot = model.find('.');
    if (dot == std::string_view::npos) {
      break;
    }
    model.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

std::optional<Price> PriceTable::findName(std::string_view model) const {
  if (model.empty()) {
    return std::nullopt;
  }
  if (auto exact = rows_.find(model); exact != rows_.end()) {
    return exact->second;
  }
  // The longest row that prefixes the model: rows sort before their extensions, so walk down
  // from the model's position.
  const Price* best = nullptr;
  std::size_t best_length = 0;
  for (auto it = rows_.upper_bound(model); it != rows_.begin();) {
    --it;
    const std::string& name = it->first;
    if (name.empty() || name.front() != model.front()) {
      break;
    }
    if (model.starts_with(name) && name.size() > best_length) {
      best = &it->second;
      best_length = name.size();
    }
  }
  return best != nullptr ? std::optional<Price>(*best) : std::nullopt;
}

double PriceTable::cost(std::string_view model, const Usage& usage) const {
  if (model.empty()) {
    return 0;
  }
  const auto price = find(model);
  if (!price) {
    return 0;
  }
  const double prompt = static_cast<double>(usage.prompt_tokens.value_or(0));
  const double cached = static_cast<double>(usage.cached_tokens.value_or(0));
  const double completion = static_cast<double>(usage.completion_tokens.value_or(0));
  const double cached_rate = price->cached_input > 0 ? price->cached_input : price->input;
  const double fresh = prompt > cached ? prompt - cached : 0;
  return (fresh * price->input + std::min(cached, prompt) * cached_rate +
          completion * price->output) /
         1e6;
}

}  // namespace portico::keys
