#include "routing/conditions.hpp"

#include <boost/regex.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

namespace portico::routing {
namespace {

using nlohmann::json;

GatewayError routerError(std::string message) { return errors::failure(400, std::move(message)); }

// The value at a dotted path, or null when any step is missing. Array steps take an index.
const json* lookup(const ConditionContext& context, const json& url, std::string_view path) {
  auto dot = path.find('.');
  std::string_view root = path.substr(0, dot);
  const json* value = nullptr;
  if (root == "metadata") {
    value = &context.metadata;
  } else if (root == "params") {
    value = &context.params;
  } else if (root == "url") {
    value = &url;
  } else {
    return nullptr;
  }
  while (dot != std::string_view::npos && value != nullptr) {
    path.remove_prefix(dot + 1);
    dot = path.find('.');
    std::string key(path.substr(0, dot));
    if (value->is_object()) {
      auto it = value->find(key);
      value = it == value->end() ? nullptr : &*it;
    } else if (value->is_array() && !key.empty() &&
               key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10) {
      std::size_t index = std::stoul(key);
      value = index < value->size() ? &(*value)[index] : nullptr;
    } else {
      value = nullptr;
    }
  }
  return value;
}

// JavaScript's parseFloat, which Portkey's comparisons use: numbers as they are, strings by
// their leading number, everything else NaN.
double toNumber(const json* value) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (value == nullptr) {
    return kNaN;
  }
  if (value->is_number()) {
    return value->get<double>();
  }
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    const char* begin = text.c_str();
    while (*begin == ' ' || *begin == '\t' || *begin == '\n') ++begin;
    char* end = nullptr;
    double parsed = std::strtod(begin, &end);
    return end == begin ? kNaN : parsed;
  }
  return kNaN;
}

bool equals(const json* value, const json& expected) {
  return value != nullptr && *value == expected;
}

bool contains(const json& list, const json* value) {
  if (value == nullptr) {
    return false;
  }
  for (const auto& item : list) {
    if (item == *value) {
      return true;
    }
  }
  return false;
}

Expected<bool> evaluateOperators(const json& operators, const json* value) {
  for (const auto& [op, operand] : operators.items()) {
    bool holds = false;
    if (op == "$eq") {
      holds = equals(value, operand);
    } else if (op == "$ne") {
      holds = !equals(value, operand);
    } else if (op == "$gt") {
      holds = toNumber(value) > toNumber(&operand);
    } else if (op == "$gte") {
      holds = toNumber(value) >= toNumber(&operand);
    } else if (op == "$lt") {
      holds = toNumber(value) < toNumber(&operand);
    } else if (op == "$lte") {
      holds = toNumber(value) <= toNumber(&operand);
    } else if (op == "$in") {
      holds = operand.is_array() && contains(operand, value);
    } else if (op == "$nin") {
      holds = operand.is_array() && !contains(operand, value);
    } else if (op == "$regex") {
      if (!operand.is_string()) {
        return routerError("Invalid regular expression in the query router: " + operand.dump());
      }
      const std::string& pattern = operand.get_ref<const std::string&>();
      try {
        // Boost.Regex (perl syntax, as JavaScript's): non-recursive, with a complexity limit
        // that throws instead of running away on a hostile pattern.
        boost::regex regex(pattern, boost::regex::perl);
        std::string subject;
        if (value != nullptr) {
          subject = value->is_string() ? value->get<std::string>() : value->dump();
        }
        holds = value != nullptr && boost::regex_search(subject, regex);
      } catch (const std::exception&) {
        return routerError("Invalid regular expression in the query router: " + pattern);
      }
    } else {
      return routerError("Unsupported operator used in the query router: " + op);
    }
    if (!holds) {
      return false;
    }
  }
  return true;
}

Expected<bool> evaluate(const json& query,
                        const ConditionContext& context,
                        const json& url,
                        int depth) {
  if (depth > 64) {
    return routerError("Invalid query in the query router: nested too deeply");
  }
  if (!query.is_object()) {
    return routerError("Invalid query in the query router: a query must be an object");
  }
  for (const auto& [key, expected] : query.items()) {
    if (key == "$and" || key == "$or") {
      if (!expected.is_array()) {
        return routerError("Invalid query in the query router: " + key + " needs an array");
      }
      const bool any = key == "$or";
      bool result = !any;
      for (const auto& sub : expected) {
        auto holds = evaluate(sub, context, url, depth + 1);
        if (!holds) {
          return holds;
        }
        if (*holds == any) {
          result = any;
          break;
        }
      }
      if (!result) {
        return false;
      }
      continue;
    }
    if (key.starts_with("$")) {
      return routerError("Unsupported operator used in the query router: " + key);
    }
    const json* value = lookup(context, url, key);
    if (expected.is_object()) {
      auto holds = evaluateOperators(expected, value);
      if (!holds || !*holds) {
        return holds;
      }
    } else if (!equals(value, expected)) {
      return false;
    }
  }
  return true;
}

std::optional<std::size_t> findTarget(const ConfigNode& node, const std::string& name) {
  for (std::size_t i = 0; i < node.targets.size(); ++i) {
    if (node.targets[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<bool> evaluateQuery(const nlohmann::json& query, const ConditionContext& context) {
  const json url = {{"pathname", context.pathname}};
  return evaluate(query, context, url, 0);
}

Expected<std::size_t> chooseConditionalTarget(const ConfigNode& node,
                                              const ConditionContext& context) {
  if (node.conditions.empty()) {
    return routerError("No conditions passed in the query router");
  }
  const json url = {{"pathname", context.pathname}};
  for (const auto& condition : node.conditions) {
    auto matched = evaluate(condition.query, context, url, 0);
    if (!matched) {
      return matched.error();
    }
    if (*matched) {
      if (auto index = findTarget(node, condition.then)) {
        return *index;
      }
      return routerError("Invalid target name found in the query router: " + condition.then);
    }
  }
  if (!node.default_target.empty()) {
    if (auto index = findTarget(node, node.default_target)) {
      return *index;
    }
    return routerError("Invalid target name found in the query router: " + node.default_target);
  }
  return routerError("Query router did not resolve to any valid target");
}

}  // namespace portico::routing
