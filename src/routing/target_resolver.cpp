#include "routing/target_resolver.hpp"

namespace portico::routing {

Inherited inherit(const Inherited& parent, const ConfigNode& node) {
  Inherited out = parent;
  if (node.retry) {
    out.retry = node.retry;
  }
  if (node.request_timeout_ms) {
    out.request_timeout_ms = node.request_timeout_ms;
  }
  if (node.override_params.is_object()) {
    if (!out.override_params.is_object()) {
      out.override_params = nlohmann::json::object();
    }
    for (const auto& [key, value] : node.override_params.items()) {
      out.override_params[key] = value;
    }
  }
  if (node.custom_host) {
    out.custom_host = node.custom_host;
  }
  if (node.forward_headers) {
    out.forward_headers = node.forward_headers;
  }
  if (node.strict_open_ai_compliance) {
    out.strict_open_ai_compliance = node.strict_open_ai_compliance;
  }
  if (node.cache) {
    out.cache = node.cache;
  }
  return out;
}

Target resolveTarget(const ConfigNode& leaf, const Inherited& settings, const RouteContext& ctx) {
  Target target;
  target.provider = leaf.provider;
  target.api_key = leaf.api_key.value_or("");
  target.options = leaf.provider_options;
  if (leaf.virtual_key) {
    target.options["virtual_key"] = *leaf.virtual_key;
  }
  target.override_params = settings.override_params;
  target.custom_host = ctx.custom_host.value_or(settings.custom_host.value_or(""));
  if (ctx.forward_headers) {
    target.forward_headers = *ctx.forward_headers;
  } else if (settings.forward_headers) {
    target.forward_headers = *settings.forward_headers;
  }
  target.request_timeout_ms =
      ctx.request_timeout_ms ? ctx.request_timeout_ms : settings.request_timeout_ms;
  if (target.request_timeout_ms && *target.request_timeout_ms <= 0) {
    target.request_timeout_ms.reset();  // 0 means no timeout, as in Portkey
  }
  // The header can only switch strict mode off, as in Portkey.
  target.strict_open_ai_compliance =
      ctx.strict_open_ai_compliance && settings.strict_open_ai_compliance.value_or(true);
  return target;
}

}  // namespace portico::routing
