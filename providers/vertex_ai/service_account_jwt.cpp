#include "vertex_ai/service_account_jwt.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "portico/encoding.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers::vertex {

using nlohmann::json;

namespace {

constexpr long long kLifetimeSeconds = 3600;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

void setError(std::string* error, std::string message) {
  if (error != nullptr) {
    *error = std::move(message);
  }
}

std::string stringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<ServiceAccountKey> parseServiceAccount(const json& value, std::string* error) {
  json object = value;
  if (value.is_string()) {
    object = parseJson(value.get<std::string>());
  }
  if (!object.is_object()) {
    setError(error, "the vertex service account JSON is not a JSON object");
    return std::nullopt;
  }
  ServiceAccountKey key;
  key.client_email = stringField(object, "client_email");
  key.private_key = stringField(object, "private_key");
  key.private_key_id = stringField(object, "private_key_id");
  key.token_uri = stringField(object, "token_uri");
  if (key.token_uri.empty()) {
    key.token_uri = kDefaultTokenUri;
  }
  if (key.client_email.empty() || key.private_key.empty()) {
    setError(error, "the vertex service account JSON needs client_email and private_key");
    return std::nullopt;
  }
  return key;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return std::nullopt;  // no base64 length
  }
  std::string standard(text);
  for (auto& c : standard) {
    if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;  // not base64url
    }
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  standard.append((4 - standard.size() % 4) % 4, '=');
  return base64Decode(standard);
}

std::optional<std::string> buildJwtAssertion(const ServiceAccountKey& key,
                                             long long issued_at,
                                             std::string* error) {
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) {
    header["kid"] = key.private_key_id;
  }
  json claims = {{"iss", key.client_email},
                 {"scope", kCloudPlatformScope},
                 {"aud", key.token_uri.empty() ? std::string(kDefaultTokenUri) : key.token_uri},
                 {"iat", issued_at},
                 {"exp", issued_at + kLifetimeSeconds}};
  std::string signing_input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());

  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(key.private_key.data(), static_cast<int>(key.private_key.size())));
  if (!bio) {
    setError(error, "out of memory reading the service account key");
    return std::nullopt;
  }
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
    setError(error, "the service account private_key is not a PEM RSA private key");
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    setError(error, "signing the service account assertion failed");
    return std::nullopt;
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    setError(error, "signing the service account assertion failed");
    return std::nullopt;
  }
  signature.resize(length);
  return signing_input + "." + base64UrlEncode(signature);
}

std::string tokenRequestBody(std::string_view assertion) {
  return "grant_type=" + percentEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
         "&assertion=" + percentEncode(assertion);
}

std::optional<AccessToken> parseTokenResponse(std::string_view body, std::string* error) {
  json parsed = parseJson(body);
  if (!parsed.is_object()) {
    setError(error, "the token endpoint answered with something that is not JSON");
    return std::nullopt;
  }
  AccessToken token;
  token.access_token = stringField(parsed, "access_token");
  if (token.access_token.empty()) {
    std::string description = stringField(parsed, "error_description");
    std::string code = stringField(parsed, "error");
    setError(error, "the token endpoint gave no access_token" +
                        (code.empty() ? std::string() : ": " + code) +
                        (description.empty() ? std::string() : " (" + description + ")"));
    return std::nullopt;
  }
  auto expires = parsed.find("expires_in");
  if (expires != parsed.end() && expires->is_number_integer()) {
    token.expires_in = expires->get<long long>();
  } else if (expires != parsed.end() && expires->is_string()) {
    // Some token endpoints send the number as a string.
    try {
      token.expires_in = std::stoll(expires->get<std::string>());
    } catch (const std::exception&) {
      token.expires_in = 0;
    }
  }
  return token;
}

}  // namespace portico::providers::vertex
