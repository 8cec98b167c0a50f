#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace portico {

// One resolved leaf of the routing plan: the provider to call and how, with everything inherited
// from parent config nodes and request headers already applied.
struct Target {
  std::string provider;
  std::string api_key;      // empty when none was given
  std::string custom_host;  // validated base URL replacing the provider's, or empty
  std::vector<std::string> forward_headers;  // lower-case client header names to copy upstream
  std::optional<std::int64_t> request_timeout_ms;
  nlohmann::json override_params;  // object merged over the body (config wins), or null
  // Provider-specific settings, snake_case: from config keys (resource_name, aws_region, ...)
  // or from x-portkey-<name> headers as <name> with '-' turned into '_' (azure_resource_name,
  // aws_region, vertex_project_id, anthropic_version, openai_organization, ...).
  nlohmann::json options = nlohmann::json::object();
  bool strict_open_ai_compliance = true;

  // Returns options[key] if it is a non-empty string, else options[alt_key], else "".
  std::string option(const char* key, const char* alt_key = nullptr) const;
};

}  // namespace portico
