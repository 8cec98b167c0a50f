#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portico/config.hpp"
#include "portico/http_types.hpp"

namespace portico {

// Everything the x-portkey-* headers (and x-portkey-config) say about one request.
struct RouteContext {
  // The routing tree. Header-only auth becomes a single leaf built from the headers.
  ConfigNode config;
  // True when the tree came from x-portkey-config (the last-used-option-index then starts at
  // "config"; credentials come only from the config).
  bool from_config = false;

  std::string trace_id;                                // echoed or generated
  nlohmann::json metadata = nlohmann::json::object();  // x-portkey-metadata

  // Header settings that apply to every target and win over the config.
  std::optional<std::string> custom_host;
  std::optional<std::vector<std::string>> forward_headers;
  std::optional<std::int64_t> request_timeout_ms;
  bool strict_open_ai_compliance = true;
  bool cache_force_refresh = false;
};

// What the route-context parser needs from the rest of the gateway.
struct RouteContextOptions {
  ConfigParseOptions config;
  // Makes a fresh trace id when the client sends none.
  std::function<std::string()> make_trace_id;
};

// Pure: request headers (lower-case names) to a RouteContext, or Portkey's 400 error.
Expected<RouteContext> parseRouteContext(const HeaderList& headers,
                                         const RouteContextOptions& options);

}  // namespace portico
