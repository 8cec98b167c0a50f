#include <algorithm>
#include <array>
#include <charconv>

#include "portico/json_parse.hpp"
#include "portico/route_context.hpp"

namespace portico {
namespace {

constexpr std::string_view kPrefix = "x-portkey-";

// x-portkey-* headers with a meaning of their own. Of the others, a header a provider declares
// becomes that setting of a header-built target (x-portkey-azure-resource-name -> resource_name),
// and any other x-portkey-<name> header the option <name>, dashes turned into underscores.
constexpr std::array<std::string_view, 17> kGenericHeaders = {"provider",
                                                              "config",
                                                              "api-key",
                                                              "virtual-key",
                                                              "custom-host",
                                                              "forward-headers",
                                                              "request-timeout",
                                                              "trace-id",
                                                              "metadata",
                                                              "strict-open-ai-compliance",
                                                              "cache-force-refresh",
                                                              "cache",
                                                              "retry-count",
                                                              "mode",
                                                              "default-input-guardrails",
                                                              "default-output-guardrails",
                                                              "cache-namespace"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> splitHeaderNames(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (!item.empty()) {
      out.push_back(lower(item));
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return out;
}

// The provider key a client sent without a config: Authorization: Bearer first (what OpenAI SDKs
// send, and where Portkey's own SDK puts the provider key), then x-portkey-api-key (Portkey's
// SDK puts the user's Portkey key there, which must never reach a provider while an
// Authorization header is present; curl examples send only this one), then x-api-key
// (Anthropic SDKs).
std::optional<std::string> headerApiKey(const HeaderList& headers) {
  if (auto auth = findHeader(headers, "authorization")) {
    std::string_view value = trim(*auth);
    if (value.size() > 7 && lower(value.substr(0, 7)) == "bearer ") {
      value = trim(value.substr(7));
    }
    if (!value.empty()) {
      return std::string(value);
    }
  }
  if (auto key = findHeader(headers, "x-portkey-api-key"); key && !trim(*key).empty()) {
    return std::string(trim(*key));
  }
  if (auto key = findHeader(headers, "x-api-key"); key && !trim(*key).empty()) {
    return std::string(trim(*key));
  }
  return std::nullopt;
}

// The registered id `name` stands for (itself or through an alias), or "" when none.
std::string canonicalProvider(const RouteContextOptions& options, std::string name) {
  if (auto alias = options.config.provider_aliases.find(name);
      alias != options.config.provider_aliases.end()) {
    return alias->second;
  }
  const auto& ids = options.config.provider_ids;
  return std::find(ids.begin(), ids.end(), name) != ids.end() ? name : std::string();
}

// A leaf target built from x-portkey-provider and the provider-specific headers. Declared
// headers are looked up among every provider's (as config fields are), so a setting that counts
// for any provider (AWS keys) arrives whatever the target's provider.
void fillLeafFromHeaders(const HeaderList& headers,
                         std::string provider,
                         const SettingsCatalog* catalog,
                         ConfigNode& node) {
  node.provider = std::move(provider);
  if (auto key = headerApiKey(headers)) {
    node.api_key = std::move(*key);
  }
  if (auto vk = findHeader(headers, "x-portkey-virtual-key"); vk && !vk->empty()) {
    node.virtual_key = std::string(*vk);
  }
  for (const auto& [name, value] : headers) {
    if (!name.starts_with(kPrefix)) {
      continue;
    }
    std::string_view rest = std::string_view(name).substr(kPrefix.size());
    if (std::find(kGenericHeaders.begin(), kGenericHeaders.end(), rest) != kGenericHeaders.end()) {
      continue;
    }
    if (const SettingsCatalog::Field* field =
            catalog != nullptr ? catalog->fieldForHeader(name) : nullptr) {
      node.provider_options[field->name] = value;
      continue;
    }
    std::string key(rest);
    std::replace(key.begin(), key.end(), '-', '_');
    node.provider_options[key] = value;
  }
}

}  // namespace

Expected<RouteContext> parseRouteContext(const HeaderList& headers,
                                         const RouteContextOptions& options) {
  RouteContext ctx;

  if (auto trace = findHeader(headers, "x-portkey-trace-id"); trace && !trace->empty()) {
    ctx.trace_id = std::string(*trace);
  } else if (options.make_trace_id) {
    ctx.trace_id = options.make_trace_id();
  }

  if (auto metadata = findHeader(headers, "x-portkey-metadata")) {
    auto parsed = parseJson(*metadata);
    if (parsed.is_object()) {
      ctx.metadata = std::move(parsed);
    }
  }

  if (auto host = findHeader(headers, "x-portkey-custom-host"); host && !host->empty()) {
    if (!options.config.is_valid_custom_host || !options.config.is_valid_custom_host(*host)) {
      return errors::invalidCustomHost();
    }
    ctx.custom_host = std::string(*host);
  }

  if (auto list = findHeader(headers, "x-portkey-forward-headers")) {
    ctx.forward_headers = splitHeaderNames(*list);
    if (std::find(ctx.forward_headers->begin(), ctx.forward_headers->end(),
                  "x-portkey-forward-headers") != ctx.forward_headers->end()) {
      return errors::failure(
          400, "forward_headers must not contain the 'x-portkey-forward-headers' header");
    }
  }

  if (auto timeout = findHeader(headers, "x-portkey-request-timeout")) {
    std::string_view text = trim(*timeout);
    long long ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size() || ms <= 0) {
      return errors::failure(400,
                             "Invalid x-portkey-request-timeout: expected a positive "
                             "number of milliseconds");
    }
    ctx.request_timeout_ms = ms;
  }

  ctx.strict_open_ai_compliance =
      lower(trim(findHeader(headers, "x-portkey-strict-open-ai-compliance").value_or(""))) !=
      "false";
  ctx.cache_force_refresh = findHeader(headers, "x-portkey-cache-force-refresh").has_value();

  auto provider_header = findHeader(headers, "x-portkey-provider");
  const auto virtual_key_header = findHeader(headers, "x-portkey-virtual-key");
  const bool virtual_key = virtual_key_header && !virtual_key_header->empty();
  std::string provider = provider_header ? lower(trim(*provider_header)) : std::string();

  if (auto config_text = findHeader(headers, "x-portkey-config")) {
    auto config = parseConfig(*config_text, options.config);
    if (!config) {
      return config.error();
    }
    ctx.config = std::move(config.value());
    if (!ctx.config.provider.empty() || !ctx.config.targets.empty() || ctx.config.virtual_key) {
      // Credentials come from the config only; provider headers are ignored (as in Portkey).
      ctx.from_config = true;
      return ctx;
    }
    if (provider.empty() && !virtual_key) {
      return errors::failure(400,
                             "Either x-portkey-provider needs to be passed. Or the "
                             "x-portkey-config header should have a valid config with provider "
                             "details in it.");
    }
    // A settings-only config (retry, cache, timeout, ...) around a header-built target.
    ctx.from_config = true;
  } else if (provider.empty() && !virtual_key) {
    return errors::missingProvider();
  }
  if (provider.empty()) {
    // A virtual key alone: the key store names the provider (the credential stage).
    fillLeafFromHeaders(headers, "", options.config.settings.get(), ctx.config);
    return ctx;
  }

  std::string id = canonicalProvider(options, std::move(provider));
  if (id.empty()) {
    return errors::invalidProvider();
  }
  fillLeafFromHeaders(headers, std::move(id), options.config.settings.get(), ctx.config);
  return ctx;
}

}  // namespace portico
