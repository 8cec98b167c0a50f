#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portico/config.hpp"
#include "portico/route_context.hpp"
#include "portico/target.hpp"

namespace portico::routing {

// The settings a config node passes down to its children (the child's own values win).
struct Inherited {
  std::optional<RetrySettings> retry;
  std::optional<std::int64_t> request_timeout_ms;
  nlohmann::json override_params;  // merged: parent's keys, overridden by the child's
  std::optional<std::string> custom_host;
  std::optional<std::vector<std::string>> forward_headers;
  std::optional<bool> strict_open_ai_compliance;
  std::optional<CacheSettings> cache;
};

// What `node` passes to its children, given what it received from its parent.
Inherited inherit(const Inherited& parent, const ConfigNode& node);

// The Target for a leaf, given the leaf's own settings (inherit(parent, leaf), computed once by
// the plan walk), with request headers (custom host, forward headers, request timeout, strict
// mode) winning over the config.
Target resolveTarget(const ConfigNode& leaf, const Inherited& settings, const RouteContext& ctx);

}  // namespace portico::routing
