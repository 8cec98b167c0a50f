#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "portico/encoding.hpp"
#include "vertex_ai/service_account_jwt.hpp"
#include "vertex_ai/vertex_adapter.hpp"

namespace portico::providers::vertex {
namespace {

using nlohmann::json;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string privatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

bool verifyRs256(EVP_PKEY* key, const std::string& input, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

class ServiceAccountJwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_.reset(EVP_RSA_gen(2048)); }
  static void TearDownTestSuite() { key_.reset(); }
  static KeyPtr key_;
};
KeyPtr ServiceAccountJwtTest::key_;

TEST_F(ServiceAccountJwtTest, BuildsVerifiableAssertion) {
  ASSERT_TRUE(key_);
  json account = {{"type", "service_account"},
                  {"client_email", "svc@my-project.iam.gserviceaccount.com"},
                  {"private_key", privatePem(key_.get())},
                  {"private_key_id", "kid-1"},
                  {"token_uri", "https://oauth2.googleapis.com/token"}};
  std::string error;
  // The header form carries the JSON as text.
  auto parsed = parseServiceAccount(json(account.dump()), &error);
  ASSERT_TRUE(parsed) << error;
  auto jwt = buildJwtAssertion(*parsed, 1700000000, &error);
  ASSERT_TRUE(jwt) << error;

  auto first = jwt->find('.');
  auto second = jwt->find('.', first + 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(jwt->find('='), std::string::npos);  // base64url without padding
  auto header = base64UrlDecode(jwt->substr(0, first));
  auto claims = base64UrlDecode(jwt->substr(first + 1, second - first - 1));
  auto signature = base64UrlDecode(jwt->substr(second + 1));
  ASSERT_TRUE(header && claims && signature);
  EXPECT_EQ(json::parse(*header), json({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "kid-1"}}));
  json c = json::parse(*claims);
  EXPECT_EQ(c["iss"], "svc@my-project.iam.gserviceaccount.com");
  EXPECT_EQ(c["scope"], "https://www.googleapis.com/auth/cloud-platform");
  EXPECT_EQ(c["aud"], "https://oauth2.googleapis.com/token");
  EXPECT_EQ(c["iat"], 1700000000);
  EXPECT_EQ(c["exp"], 1700003600);
  EXPECT_EQ(signature->size(), 256u);
  EXPECT_TRUE(verifyRs256(key_.get(), jwt->substr(0, second), *signature));

  // A tampered payload does not verify.
  std::string tampered = jwt->substr(0, second);
  tampered[first + 3] = tampered[first + 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifyRs256(key_.get(), tampered, *signature));
}

TEST_F(ServiceAccountJwtTest, AdapterCacheKeyNamesTheCredentialWithoutTheKey) {
  ASSERT_TRUE(key_);
  const std::string pem = privatePem(key_.get());
  Target target;
  target.provider = "vertex-ai";
  target.options = {{"vertex_region", "us-central1"},
                    {"vertex_service_account_json",
                     {{"client_email", "svc@p.iam.gserviceaccount.com"},
                      {"private_key", pem},
                      {"private_key_id", "kid-1"}}}};
  VertexAdapter adapter;
  auto key = adapter.tokenCacheKey(target);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->starts_with("vertex-ai|svc@p.iam.gserviceaccount.com|kid-1|")) << *key;
  EXPECT_EQ(key->find("PRIVATE KEY"), std::string::npos);
  auto exchange = adapter.tokenExchange(target, std::chrono::system_clock::now());
  ASSERT_TRUE(exchange.has_value()) << exchange.error().body.dump();
  EXPECT_EQ(exchange->cache_key, *key);  // the token is cached under the key asked for first
  EXPECT_EQ(exchange->request.host, "oauth2.googleapis.com");
  EXPECT_EQ(exchange->request.target, "/token");
  EXPECT_TRUE(exchange->request.body.starts_with("grant_type="));

  target.options["vertex_service_account_json"] = "";
  EXPECT_FALSE(adapter.tokenCacheKey(target));  // an empty header is no service account
  target.options["vertex_service_account_json"] = "{}";
  EXPECT_EQ(adapter.tokenCacheKey(target).value_or(""), "vertex-ai|unusable");
}

TEST_F(ServiceAccountJwtTest, RejectsBadKeys) {
  std::string error;
  EXPECT_FALSE(parseServiceAccount(json("not json"), &error));
  EXPECT_FALSE(parseServiceAccount(json{{"client_email", "a@b"}}, &error));
  auto account =
      parseServiceAccount(json{{"client_email", "a@b"}, {"private_key", "nope"}}, &error);
  ASSERT_TRUE(account);
  EXPECT_EQ(account->token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_FALSE(buildJwtAssertion(*account, 1, &error));
  EXPECT_NE(error.find("PEM RSA"), std::string::npos);
}

TEST(ServiceAccountTokenTest, TokenRequestAndResponse) {
  EXPECT_EQ(tokenRequestBody("a.b-c_d"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b-c_d");
  std::string error;
  auto token = parseTokenResponse(
      R"({"access_token":"ya29.abc","expires_in":3599,"token_type":"Bearer"})", &error);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->access_token, "ya29.abc");
  EXPECT_EQ(token->expires_in, 3599);
  EXPECT_FALSE(parseTokenResponse(
      R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})", &error));
  EXPECT_NE(error.find("Invalid JWT Signature."), std::string::npos);
  EXPECT_FALSE(parseTokenResponse("<html>", &error));
}

TEST(Base64UrlTest, RoundTrips) {
  for (std::string text : {"", "f", "fo", "foo", "foob", "\xff\xfe\xfd?>"}) {
    auto encoded = base64UrlEncode(text);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = base64UrlDecode(encoded);
    ASSERT_TRUE(decoded) << text;
    EXPECT_EQ(*decoded, text);
  }
  EXPECT_FALSE(base64UrlDecode("a"));
}

}  // namespace
}  // namespace portico::providers::vertex
