#pragma once

// Conditional routing ("strategy.mode": "conditional"): evaluates `strategy.conditions` against
// the request and picks the target to use. Pure.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "portico/config.hpp"
#include "portico/error.hpp"

namespace portico::routing {

// What a query may look at: {"metadata": x-portkey-metadata, "params": the request body,
// "url": {"pathname": "/v1/chat/completions"}}.
struct ConditionContext {
  const nlohmann::json& metadata;
  const nlohmann::json& params;
  std::string pathname;
};

// Evaluates one query. Keys are dotted paths into the context, to any depth
// ("metadata.org.tier", "params.messages.0.role"); values are a plain JSON value (equality) or
// an object of operators ($eq $ne $gt $gte $lt $lte $in $nin $regex); "$and"/"$or" take arrays
// of queries. Every key of a query must hold. Returns a 400 for an unknown operator or an
// invalid regular expression.
Expected<bool> evaluateQuery(const nlohmann::json& query, const ConditionContext& context);

// The index in `node.targets` of the target the conditions choose: the `then` of the first
// matching condition, else `strategy.default`. 400s with Portkey's messages otherwise.
Expected<std::size_t> chooseConditionalTarget(const ConfigNode& node,
                                              const ConditionContext& context);

}  // namespace portico::routing
