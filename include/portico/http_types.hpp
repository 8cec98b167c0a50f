#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico {

// Header names are kept lower-case everywhere inside Portico.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first header named `name` (lower-case), if any.
std::optional<std::string_view> findHeader(const HeaderList& headers, std::string_view name);

// Replaces every header named `name` with one `name: value`.
void setHeader(HeaderList& headers, std::string_view name, std::string value);

// A fully built request for a provider, produced by an adapter and sent by the upstream client.
struct UpstreamRequest {
  std::string method = "POST";
  std::string scheme = "https";  // "https" or "http"
  std::string host;
  std::string port;    // "443", "80", or as given
  std::string target;  // path and query, e.g. "/v1/chat/completions?x=1"
  HeaderList headers;  // lower-case names; Host and Content-Length are added by the client
  std::string body;
  // The host came from the client (a custom host, a token endpoint in client credentials): every
  // address it resolves to must pass the custom-host policy before it is connected to.
  bool check_address = false;
};

// The Host header for `request`: its host ([bracketed] when IPv6) plus ":port" unless the port
// is the scheme's default. The upstream client sends exactly this; SigV4 signs exactly this.
std::string hostHeader(const UpstreamRequest& request);

// The media type of a Content-Type value, lower-cased, without parameters or trailing spaces:
// "Text/Event-Stream; charset=utf-8" -> "text/event-stream".
std::string mediaType(std::string_view content_type);

// A base URL split into its parts: "https://api.openai.com/v1" -> https, api.openai.com, 443, /v1.
struct BaseUrl {
  std::string scheme;
  std::string host;
  std::string port;
  std::string path;  // no trailing slash; may be empty
};

// True when `url` starts with http:// or https:// (any case), is at most 8 KiB and holds only
// visible ASCII. Boost.URL 1.81 asserts on some malformed inputs ("jtout: ", "T:[", "http:?"),
// so nothing reaches its parser without passing this first.
bool looksLikeHttpUrl(std::string_view url);

// Parses an absolute http(s) URL. Returns nullopt for anything else.
std::optional<BaseUrl> parseBaseUrl(std::string_view url);

}  // namespace portico
