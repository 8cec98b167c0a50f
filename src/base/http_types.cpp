#include "portico/http_types.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <unordered_map>

#include "portico/encoding.hpp"

namespace portico {

std::optional<std::string_view> findHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

void setHeader(HeaderList& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& header) { return header.first == name; });
  headers.emplace_back(std::string(name), std::move(value));
}

bool looksLikeHttpUrl(std::string_view url) {
  constexpr std::size_t kMaxUrlBytes = 8192;
  if (url.size() > kMaxUrlBytes) {
    return false;
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return false;
    }
  }
  auto starts_with = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) {
      return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) {
        return false;
      }
    }
    return true;
  };
  return starts_with("http://") || starts_with("https://");
}

namespace {

std::optional<BaseUrl> parseBaseUrlUncached(std::string_view url) {
  if (!looksLikeHttpUrl(url)) {
    return std::nullopt;
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || !parsed->has_authority() || parsed->host().empty()) {
    return std::nullopt;
  }
  BaseUrl out;
  out.scheme = parsed->scheme();
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme != "http" && out.scheme != "https") {
    return std::nullopt;
  }
  // host_name() for IPv6 literals is the address without brackets, which is what connect wants.
  out.host = parsed->host_type() == boost::urls::host_type::ipv6
                 ? std::string(parsed->host_address())
                 : std::string(parsed->encoded_host());
  out.port = parsed->has_port() ? std::string(parsed->port())
                                : std::string(out.scheme == "https" ? "443" : "80");
  out.path = std::string(parsed->encoded_path());
  if (!out.path.empty() && out.path.front() != '/') {
    return std::nullopt;  // Boost.URL let the authority run into the path ("http://h:80a/")
  }
  while (!out.path.empty() && out.path.back() == '/') {
    out.path.pop_back();
  }
  return out;
}

}  // namespace

std::optional<BaseUrl> parseBaseUrl(std::string_view url) {
  // Every request resolves its provider's base URL (or custom host); the same few strings come
  // back, so each thread remembers what they parse to.
  thread_local std::unordered_map<std::string, std::optional<BaseUrl>> parsed;
  constexpr std::size_t kMaxRemembered = 256;
  if (auto it = parsed.find(std::string(url)); it != parsed.end()) {
    return it->second;
  }
  if (parsed.size() >= kMaxRemembered) {
    parsed.clear();
  }
  auto result = parseBaseUrlUncached(url);
  parsed.emplace(std::string(url), result);
  return result;
}

std::string hostHeader(const UpstreamRequest& request) {
  std::string host =
      request.host.find(':') != std::string::npos ? "[" + request.host + "]" : request.host;
  bool default_port = (request.scheme == "https" && request.port == "443") ||
                      (request.scheme == "http" && request.port == "80");
  return default_port ? host : host + ":" + request.port;
}

std::string mediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
    media.remove_suffix(1);
  }
  return asciiLower(media);
}

}  // namespace portico
