#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/endpoint.hpp"
#include "portico/error.hpp"
#include "portico/http_types.hpp"
#include "portico/provider_settings.hpp"
#include "portico/target.hpp"
#include "portico/usage.hpp"

namespace portico {

// What an adapter sees of the client's request. Pure data: no sockets.
struct ClientRequest {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string method = "POST";
  std::string path;                     // after "/v1", e.g. "/chat/completions" or "/files/abc"
  std::string query;                    // without the '?', may be empty
  const HeaderList* headers = nullptr;  // the client's headers, lower-case names
  std::string_view raw_body;            // the bytes the client sent
  // The parsed JSON body with override_params merged in, or null when the body is not JSON
  // (passthrough of multipart/audio, GET, DELETE).
  const nlohmann::json* body = nullptr;
  // True when the caller changed `body` (override_params), so raw_body is stale.
  bool body_modified = false;
  bool stream = false;  // body has "stream": true
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// How the upstream answered, as the adapter needs it to build the client's answer.
struct UpstreamReply {
  int status = 0;
  std::string content_type;
  std::string body;
  HeaderList headers;  // the upstream's response headers, lower-case names
};

// The answer for the client.
struct MappedResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // The answer's token counts, for the gateway's observers (logs, metrics, budgets); every
  // adapter fills it for 2xx answers that carry usage, whatever the client asked for.
  std::optional<Usage> usage;
};

// Turns one provider's streamed answer into OpenAI's SSE, per request and stateful. The relay
// feeds it upstream bytes exactly as they arrive (any split) and writes what it appends.
class StreamTransformer {
 public:
  virtual ~StreamTransformer() = default;
  // Consumes upstream bytes; appends complete client SSE bytes (may append nothing).
  virtual void feed(std::string_view bytes, std::string& out) = 0;
  // The upstream ended. `complete` is false when the connection broke or timed out mid-stream:
  // then append an error event the client can see. Appends any trailing chunks and "[DONE]".
  virtual void finish(bool complete, std::string& out) = 0;
  // The answer's token counts once the provider reported them (its final usage event), whether
  // or not the client sees them; nullopt before or when it never does.
  virtual std::optional<Usage> usage() const { return std::nullopt; }
};

// A credential the gateway must fetch over HTTP before buildRequest(), such as an OAuth access
// token for a Google service account. The forwarder sends `request` (its host must pass the
// custom-host guard), hands the answer to parseTokenReply(), caches the token under `cache_key`
// until shortly before it expires, and calls buildRequest() with the token as Target::api_key.
struct TokenExchange {
  std::string cache_key;  // identifies the credential; a hash, never the secret itself
  UpstreamRequest request;
};

struct FetchedToken {
  std::string token;
  std::chrono::seconds expires_in{0};
};

// One client request on one target, opened by ProviderAdapter::open(): derives what the provider
// needs (model, stream, region, ids, resolved versions, typed settings) once, then serves every
// step of the attempt from it. It may keep references to the request and the target it was
// opened with, which outlive it; transformers it makes own what they use.
class ProviderCall {
 public:
  virtual ~ProviderCall() = default;

  // The provider request, without authentication (authenticate() adds it).
  virtual Expected<UpstreamRequest> request() = 0;

  // Adds authentication to the finished request (every header set, the body final): an API key
  // header, or a signature over the request (SigV4) computed with hostHeader(). The default adds
  // nothing (the key went into request()).
  virtual Expected<bool> authenticate(UpstreamRequest& /*request*/) { return true; }

  // Maps a complete (non-streamed, or any non-2xx) upstream answer to the client's answer.
  // Non-2xx answers keep the upstream status and become OpenAI-shaped errors.
  virtual MappedResponse mapResponse(UpstreamReply reply) = 0;

  // A transformer for a 2xx streamed answer, or nullptr to relay the upstream bytes unchanged.
  virtual std::unique_ptr<StreamTransformer> streamTransformer() { return nullptr; }

  // A request the provider only takes in parts (Bedrock's Titan embedding models take one input
  // per call): the client bodies to send in its place, each opened as its own call, several at
  // once. Empty (the default): send the request as it is.
  virtual std::vector<nlohmann::json> splitRequest() { return {}; }

  // Joins the 2xx answers to splitRequest()'s parts, in its order, into the client's answer.
  virtual MappedResponse joinResponses(std::vector<MappedResponse> parts) {
    return parts.empty() ? MappedResponse{} : std::move(parts.front());
  }
};

using ProviderCallPtr = std::unique_ptr<ProviderCall>;

// A stateless translator for one provider. Adapters never include Beast or Asio (the build
// refuses it: see cmake/check_layers.cmake).
class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  // Portkey's provider id, e.g. "openai", "azure-openai".
  virtual std::string_view id() const = 0;

  // Whether the provider can serve the endpoint. Unsupported endpoints get Portkey's 500
  // "<fn> is not supported by <provider>".
  virtual bool supports(Endpoint endpoint) const = 0;

  // Whether the provider serves `endpoint` in the client's own format for `model`. The default
  // is supports(endpoint); a provider that has a format for some models only (Anthropic's
  // Messages API for Claude on Bedrock) says so per model. The gateway serves the Responses and
  // Messages APIs through the provider's chat completions where this is false.
  virtual bool servesNatively(Endpoint endpoint, std::string_view /*model*/) const {
    return supports(endpoint);
  }

  // Whether a passthrough POST /v1/messages/count_tokens reaches the provider's own token
  // counter in Anthropic's format. Elsewhere the gateway answers it with a 400.
  virtual bool countsMessageTokens() const { return false; }

  // The provider's own settings (config fields, x-portkey-* headers, rules); the config and
  // header parsers ask the registry for them.
  virtual const ProviderSettings& settings() const;

  // Opens the call for one request on one target. Fails with the client's error when the
  // request or the target's settings are unusable. May throw on a body of the wrong shape; the
  // gateway turns that into a 400.
  virtual Expected<ProviderCallPtr> open(const ClientRequest& request,
                                         const Target& target) const = 0;

  // The cache key of the token the target's credentials need before a call (a hash, never the
  // secret), or nullopt when they need none. Cheap: the gateway asks before tokenExchange(), so
  // a cached token costs no signing.
  virtual std::optional<std::string> tokenCacheKey(const Target& /*target*/) const {
    return std::nullopt;
  }

  // The token request for tokenCacheKey()'s credential (signing a JWT, say), sent only on a
  // cache miss.
  virtual Expected<TokenExchange> tokenExchange(
      const Target& /*target*/, std::chrono::system_clock::time_point /*now*/) const {
    return errors::failure(500, "this provider fetches no tokens");
  }

  // Reads the token endpoint's answer for a tokenExchange() request.
  virtual Expected<FetchedToken> parseTokenReply(const UpstreamReply& /*reply*/) const {
    return errors::failure(500, "this provider fetches no tokens");
  }

  // One-shot forms of a call's steps, for tests and tools (the gateway opens one call per
  // attempt instead). buildRequest() includes authenticate().
  Expected<UpstreamRequest> buildRequest(const ClientRequest& request, const Target& target) const;
  MappedResponse mapResponse(const ClientRequest& request,
                             const Target& target,
                             UpstreamReply reply) const;
  std::unique_ptr<StreamTransformer> makeStreamTransformer(const ClientRequest& request,
                                                           const Target& target) const;
};

using ProviderAdapterPtr = std::unique_ptr<const ProviderAdapter>;

}  // namespace portico
