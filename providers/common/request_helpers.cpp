#include "common/request_helpers.hpp"

#include <algorithm>
#include <array>

#include "portico/json_parse.hpp"

namespace portico::providers {

using nlohmann::json;

Expected<UpstreamRequest> requestAt(std::string_view base_url,
                                    std::string_view path,
                                    std::string_view query,
                                    const ClientRequest& request,
                                    std::string_view provider) {
  auto url = parseBaseUrl(base_url);
  if (!url) {
    return errors::failure(400, "A custom host is required for provider " + std::string(provider) +
                                    ": send x-portkey-custom-host or custom_host in the config");
  }
  UpstreamRequest out;
  out.method = request.method;
  out.scheme = std::move(url->scheme);
  out.host = std::move(url->host);
  out.port = std::move(url->port);
  out.target = std::move(url->path);
  out.target += path;
  if (!query.empty()) {
    out.target += out.target.find('?') == std::string::npos ? '?' : '&';
    out.target += query;
  }
  return out;
}

Expected<UpstreamRequest> requestTo(std::string_view default_base_url,
                                    std::string_view path,
                                    const ClientRequest& request,
                                    const Target& target,
                                    bool keep_query) {
  std::string_view base = target.custom_host.empty() ? default_base_url : target.custom_host;
  return requestAt(base, path, keep_query ? std::string_view(request.query) : std::string_view(),
                   request, target.provider);
}

std::string optionOrHeader(const ClientRequest& request,
                           const Target& target,
                           const char* option,
                           std::string_view header) {
  std::string value = target.option(option);
  if (value.empty() && request.headers != nullptr) {
    value = std::string(findHeader(*request.headers, header).value_or(""));
  }
  return value;
}

namespace {

// Headers that describe this hop or the message's framing: the gateway writes its own, and a
// client's copy would give the upstream two Host headers, a second body length, or an upgrade.
bool isHopOrFraming(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kHop = {"host",
                                                            "content-length",
                                                            "transfer-encoding",
                                                            "connection",
                                                            "keep-alive",
                                                            "te",
                                                            "trailer",
                                                            "upgrade",
                                                            "expect",
                                                            "proxy-connection",
                                                            "proxy-authorization",
                                                            "accept-encoding"};
  return std::find(kHop.begin(), kHop.end(), name) != kHop.end();
}

}  // namespace

void copyForwardedHeaders(const ClientRequest& request, const Target& target, HeaderList& out) {
  if (request.headers == nullptr) {
    return;
  }
  for (const auto& name : target.forward_headers) {
    // Never the gateway's own headers, and never one the adapter set (the provider key in
    // authorization or x-api-key, content-type, a version header): forwarding adds, it does
    // not replace.
    if (isHopOrFraming(name) || name.starts_with("x-portkey-") || findHeader(out, name)) {
      continue;
    }
    if (auto value = findHeader(*request.headers, name)) {
      out.emplace_back(name, std::string(*value));
    }
  }
}

namespace {

// Passthrough forwards the client's headers but this hop's, the gateway's own and the client's
// credentials (the provider's auth is added instead).
bool isDroppedOnPassthrough(std::string_view name) {
  return name.starts_with("x-portkey-") || isHopOrFraming(name) || name == "authorization" ||
         name == "x-api-key";
}

}  // namespace

void copyPassthroughHeaders(const ClientRequest& request, HeaderList& out) {
  if (request.headers == nullptr) {
    return;
  }
  for (const auto& [name, value] : *request.headers) {
    if (!isDroppedOnPassthrough(name) && !findHeader(out, name)) {
      out.emplace_back(name, value);
    }
  }
}

std::string bodyBytes(const ClientRequest& request) {
  if (request.body != nullptr && request.body_modified) {
    return request.body->dump();
  }
  return std::string(request.raw_body);
}

namespace {

json fieldOrNull(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? json(nullptr) : *it;
}

std::string asMessage(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

constexpr std::size_t kMaxQuotedTextBytes = 2048;

}  // namespace

MappedResponse normaliseError(std::string_view provider, const UpstreamReply& reply) {
  json parsed = parseJson(reply.body);
  GatewayError error;
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const json& e = parsed["error"];
    std::string message = e.contains("message") ? asMessage(e["message"]) : e.dump();
    error = errors::providerError(reply.status, provider, message, fieldOrNull(e, "type"),
                                  fieldOrNull(e, "param"), fieldOrNull(e, "code"));
  } else if (parsed.is_object() && parsed.contains("error")) {
    error = errors::providerError(reply.status, provider, asMessage(parsed["error"]));
  } else if (parsed.is_object() && parsed.contains("message")) {
    error =
        errors::providerError(reply.status, provider, asMessage(parsed["message"]),
                              fieldOrNull(parsed, "type"), nullptr, fieldOrNull(parsed, "code"));
  } else if (parsed.is_object() && parsed.contains("detail")) {
    error = errors::providerError(reply.status, provider, asMessage(parsed["detail"]));
  } else if (!parsed.is_discarded()) {
    error = errors::providerError(reply.status, provider, parsed.dump());
  } else {
    std::string text = reply.body.substr(0, kMaxQuotedTextBytes);
    if (text.empty()) {
      text = "empty response with status " + std::to_string(reply.status);
    }
    error = errors::providerError(reply.status, provider, text);
  }
  return fromError(error);
}

MappedResponse fromError(const GatewayError& error) {
  return MappedResponse{error.status, "application/json",
                        error.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace portico::providers
