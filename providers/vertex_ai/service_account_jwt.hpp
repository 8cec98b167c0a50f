#pragma once

// The pure half of Google service-account auth: the RS256-signed JWT assertion sent to the
// token endpoint, and the parsing of its answer. The HTTP exchange itself is not done here.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace portico::providers::vertex {

inline constexpr std::string_view kCloudPlatformScope =
    "https://www.googleapis.com/auth/cloud-platform";
inline constexpr std::string_view kDefaultTokenUri = "https://oauth2.googleapis.com/token";

struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;  // PEM (PKCS#8 "BEGIN PRIVATE KEY", or PKCS#1)
  std::string private_key_id;
  std::string token_uri;  // defaults to kDefaultTokenUri
};

// Reads a service-account key from its JSON (an object, or a string holding the JSON). Returns
// nullopt and sets `error` when client_email or private_key is missing.
std::optional<ServiceAccountKey> parseServiceAccount(const nlohmann::json& value,
                                                     std::string* error);

// Decodes one base64url segment of a JWT (RFC 7515: no padding); nullopt for anything else.
// Encoding is portico::base64UrlEncode.
std::optional<std::string> base64UrlDecode(std::string_view text);

// The signed assertion: base64url(header).base64url(claims).base64url(RS256 signature), with
// header {alg:RS256, typ:JWT[, kid]} and claims {iss, scope, aud=token_uri, iat, exp=iat+3600}.
// Returns nullopt and sets `error` when the key cannot be read or signing fails.
std::optional<std::string> buildJwtAssertion(const ServiceAccountKey& key,
                                             long long issued_at,
                                             std::string* error);

// The form body for the token endpoint (grant_type jwt-bearer + assertion).
std::string tokenRequestBody(std::string_view assertion);

struct AccessToken {
  std::string access_token;
  long long expires_in = 0;
};

// Parses {"access_token":..., "expires_in":..., "token_type":"Bearer"}; nullopt and `error`
// (the endpoint's error_description when given) otherwise.
std::optional<AccessToken> parseTokenResponse(std::string_view body, std::string* error);

}  // namespace portico::providers::vertex
