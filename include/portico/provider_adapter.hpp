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
#include "portico/target.hpp"

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

// A stateless translator for one provider. Adapters never include Beast or Asio.
class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  // Portkey's provider id, e.g. "openai", "azure-openai".
  virtual std::string_view id() const = 0;

  // Whether the provider can serve the endpoint. Unsupported endpoints get Portkey's 500
  // "<fn> is not supported by <provider>".
  virtual bool supports(Endpoint endpoint) const = 0;

  // Builds the provider request, including auth, from the client request and the target.
  virtual Expected<UpstreamRequest> buildRequest(const ClientRequest& request,
                                                 const Target& target) const = 0;

  // Maps a complete (non-streamed, or any non-2xx) upstream answer to the client's answer.
  // Non-2xx answers keep the upstream status and become OpenAI-shaped errors.
  virtual MappedResponse mapResponse(const ClientRequest& request,
                                     const Target& target,
                                     UpstreamReply reply) const = 0;

  // A transformer for a 2xx streamed answer, or nullptr to relay the upstream bytes unchanged.
  virtual std::unique_ptr<StreamTransformer> makeStreamTransformer(const ClientRequest& request,
                                                                   const Target& target) const = 0;

  // The token to fetch before buildRequest(), if the target's credentials need one (nullopt:
  // none). Most providers need none.
  virtual Expected<std::optional<TokenExchange>> tokenExchange(
      const Target& /*target*/, std::chrono::system_clock::time_point /*now*/) const {
    return std::optional<TokenExchange>();
  }

  // A request the provider only takes in parts (Bedrock's Titan embedding models take one input
  // per call): the client bodies to send in its place, each through buildRequest() and
  // mapResponse(), several at once. Empty (the default): send the request as it is.
  virtual std::vector<nlohmann::json> splitRequest(const ClientRequest& /*request*/,
                                                   const Target& /*target*/) const {
    return {};
  }

  // Joins the 2xx answers to splitRequest()'s parts, in its order, into the client's answer.
  virtual MappedResponse joinResponses(const ClientRequest& /*request*/,
                                       const Target& /*target*/,
                                       std::vector<MappedResponse> parts) const {
    return parts.empty() ? MappedResponse{} : std::move(parts.front());
  }

  // Reads the token endpoint's answer for a tokenExchange() request.
  virtual Expected<FetchedToken> parseTokenReply(const UpstreamReply& /*reply*/) const {
    return errors::failure(500, "this provider fetches no tokens");
  }
};

using ProviderAdapterPtr = std::unique_ptr<const ProviderAdapter>;

}  // namespace portico
