#pragma once

#include <string>
#include <string_view>

#include "portico/error.hpp"
#include "portico/http_types.hpp"
#include "portico/provider_adapter.hpp"

namespace portico::providers {

// A request with the client's method, pointed at `base_url` + `path`, then `query` when not
// empty ('?' or '&' before it). Fails (400, naming `provider`) when the base URL is unusable:
// only a provider without a default host (ollama, custom deployments) and no custom host.
Expected<UpstreamRequest> requestAt(std::string_view base_url,
                                    std::string_view path,
                                    std::string_view query,
                                    const ClientRequest& request,
                                    std::string_view provider);

// Points `out` at `base_url` (or the target's custom host when set) plus `path`, keeping the
// client's query string when `keep_query` is set. Fails when neither URL is usable.
Expected<UpstreamRequest> requestTo(std::string_view default_base_url,
                                    std::string_view path,
                                    const ClientRequest& request,
                                    const Target& target,
                                    bool keep_query);

// The target option `option` (config field or x-portkey-* header), else the client's own header
// `header` (e.g. anthropic-version), else "".
std::string optionOrHeader(const ClientRequest& request,
                           const Target& target,
                           const char* option,
                           std::string_view header);

// Copies the client headers named in target.forward_headers into `out`.
void copyForwardedHeaders(const ClientRequest& request, const Target& target, HeaderList& out);

// For /v1/* passthrough: every client header except x-portkey-*, auth, hop-by-hop and framing.
void copyPassthroughHeaders(const ClientRequest& request, HeaderList& out);

// The body to send: the client's bytes when nothing changed them, else `body` re-serialised.
std::string bodyBytes(const ClientRequest& request);

// Normalises a non-2xx upstream answer into {"error":{...},"provider":id}, keeping the status.
// Understands {"error":{message,type,param,code}}, {"error":"text"}, {"message":...},
// {"detail":...} and non-JSON bodies (their text becomes the message).
MappedResponse normaliseError(std::string_view provider, const UpstreamReply& reply);

// Serialises a GatewayError as a MappedResponse.
MappedResponse fromError(const GatewayError& error);

}  // namespace portico::providers
