#include "common/aws_sigv4.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "portico/encoding.hpp"

namespace portico::aws {
namespace {

// AWS's published SigV4 test suite (aws-sig-v4-test-suite), all signed with these values.
const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kCredPrefix =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";
const std::string kStsPrefix =
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n";
const std::string kSessionToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
    "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT"
    "7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlz"
    "m8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

std::chrono::system_clock::time_point suiteTime() {
  using namespace std::chrono;
  return sys_days{year{2015} / August / 30} + hours{12} + minutes{36};
}

SigningInput suiteInput(std::string method, std::string path, std::string query = "") {
  SigningInput in;
  in.method = std::move(method);
  in.host = "example.amazonaws.com";
  in.path = std::move(path);
  in.query = std::move(query);
  in.region = "us-east-1";
  in.service = "service";
  in.now = suiteTime();
  return in;
}

std::string header(const std::vector<std::pair<std::string, std::string>>& headers,
                   std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

// Checks the three published artefacts of one suite case.
void expectSuiteCase(const SigningInput& in,
                     const Credentials& creds,
                     const std::string& creq,
                     const std::string& sts_hash,
                     const std::string& authz) {
  EXPECT_EQ(canonicalRequest(in, creds), creq);
  EXPECT_EQ(stringToSign(in, creq), kStsPrefix + sts_hash);
  const auto headers = signRequest(in, creds);
  EXPECT_EQ(header(headers, "authorization"), authz);
  EXPECT_EQ(header(headers, "x-amz-date"), "20150830T123600Z");
}

TEST(AwsSigV4Test, Sha256Hex) {
  EXPECT_EQ(sha256Hex(""), kEmptyHash);
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AwsSigV4Test, AmzDate) {
  EXPECT_EQ(amzDate(suiteTime()), "20150830T123600Z");
  using namespace std::chrono;
  EXPECT_EQ(amzDate(sys_days{year{2024} / February / 29} + hours{23} + minutes{59} + seconds{59} +
                    milliseconds{999}),
            "20240229T235959Z");
}

// SigV4's URI encoding is portico::percentEncode: '/' kept in paths, encoded elsewhere.
TEST(AwsSigV4Test, UriEncode) {
  EXPECT_EQ(percentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percentEncode("a b/c:d"), "a%20b%2Fc%3Ad");
  EXPECT_EQ(percentEncode("a b/c:d", true), "a%20b/c%3Ad");
  EXPECT_EQ(percentEncode("%3A+=&", true), "%253A%2B%3D%26");
  EXPECT_EQ(percentEncode("\xE1\x88\xB4"), "%E1%88%B4");
  EXPECT_EQ(percentEncode("anthropic.claude-3-sonnet-20240229-v1:0"),
            "anthropic.claude-3-sonnet-20240229-v1%3A0");
  EXPECT_EQ(percentEncode("arn:aws:bedrock:us-east-1:1:inference-profile/x"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx");
}

TEST(AwsSigV4Test, GetVanilla) {
  expectSuiteCase(suiteInput("GET", "/"), kCreds,
                  "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                  "host;x-amz-date\n" +
                      kEmptyHash,
                  "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(AwsSigV4Test, GetVanillaQueryOrderKeyCase) {
  expectSuiteCase(suiteInput("GET", "/", "Param2=value2&Param1=value1"), kCreds,
                  "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                      kEmptyHash,
                  "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(AwsSigV4Test, GetVanillaQueryOrderKey) {
  // Same name twice: ordered by value, byte-wise ('V' < 'v').
  expectSuiteCase(suiteInput("GET", "/", "Param1=value2&Param1=Value1"), kCreds,
                  "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\n"
                  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                      kEmptyHash,
                  "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
}

TEST(AwsSigV4Test, GetVanillaQueryOrderValue) {
  expectSuiteCase(suiteInput("GET", "/", "Param1=value2&Param1=value1"), kCreds,
                  "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\n"
                  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                      kEmptyHash,
                  "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
}

TEST(AwsSigV4Test, GetVanillaQueryUnreserved) {
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  expectSuiteCase(suiteInput("GET", "/", unreserved + "=" + unreserved), kCreds,
                  "GET\n/\n" + unreserved + "=" + unreserved +
                      "\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                      "host;x-amz-date\n" +
                      kEmptyHash,
                  "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

TEST(AwsSigV4Test, GetVanillaUtf8Query) {
  const std::string creq =
      "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "host;x-amz-date\n" +
      kEmptyHash;
  const std::string authz =
      kCredPrefix +
      "SignedHeaders=host;x-amz-date, "
      "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04";
  const std::string sts = "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073";
  // Raw UTF-8 and its already percent-encoded form canonicalise the same way.
  expectSuiteCase(suiteInput("GET", "/", "\xE1\x88\xB4=bar"), kCreds, creq, sts, authz);
  expectSuiteCase(suiteInput("GET", "/", "%E1%88%B4=bar"), kCreds, creq, sts, authz);
}

TEST(AwsSigV4Test, GetUnreservedPath) {
  const std::string path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  expectSuiteCase(suiteInput("GET", path), kCreds,
                  "GET\n" + path +
                      "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                      "host;x-amz-date\n" +
                      kEmptyHash,
                  "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST(AwsSigV4Test, GetUtf8Path) {
  expectSuiteCase(suiteInput("GET", "/\xE1\x88\xB4"), kCreds,
                  "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                  "host;x-amz-date\n" +
                      kEmptyHash,
                  "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(AwsSigV4Test, NormalizedPaths) {
  const std::string root_sig =
      kCredPrefix +
      "SignedHeaders=host;x-amz-date, "
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  for (const char* path : {"/example/..", "/example1/example2/../..", "//", "/./"}) {
    EXPECT_EQ(header(signRequest(suiteInput("GET", path), kCreds), "authorization"), root_sig)
        << path;
  }
  // get-slash-pointless-dot
  EXPECT_EQ(header(signRequest(suiteInput("GET", "/./example"), kCreds), "authorization"),
            kCredPrefix +
                "SignedHeaders=host;x-amz-date, "
                "Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5");
  // get-slashes
  EXPECT_EQ(header(signRequest(suiteInput("GET", "//example//"), kCreds), "authorization"),
            kCredPrefix +
                "SignedHeaders=host;x-amz-date, "
                "Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84");
  // get-space: the raw space is encoded once.
  expectSuiteCase(suiteInput("GET", "/example space/"), kCreds,
                  "GET\n/example%20space/\n\nhost:example.amazonaws.com\n"
                  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                      kEmptyHash,
                  "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
}

TEST(AwsSigV4Test, PostVanilla) {
  expectSuiteCase(suiteInput("POST", "/"), kCreds,
                  "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                  "host;x-amz-date\n" +
                      kEmptyHash,
                  "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(AwsSigV4Test, PostVanillaQuery) {
  expectSuiteCase(suiteInput("POST", "/", "Param1=value1"), kCreds,
                  "POST\n/\nParam1=value1\nhost:example.amazonaws.com\n"
                  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                      kEmptyHash,
                  "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date, "
                      "Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
}

TEST(AwsSigV4Test, PostHeaderKeySortAndValueCase) {
  auto in = suiteInput("POST", "/");
  in.headers = {{"My-Header1", "value1"}};  // names are lower-cased
  expectSuiteCase(in, kCreds,
                  "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                  "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                      kEmptyHash,
                  "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
                  kCredPrefix +
                      "SignedHeaders=host;my-header1;x-amz-date, "
                      "Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c");
  in.headers = {{"my-header1", "VALUE1"}};  // values keep their case
  expectSuiteCase(in, kCreds,
                  "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\n"
                  "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                      kEmptyHash,
                  "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
                  kCredPrefix +
                      "SignedHeaders=host;my-header1;x-amz-date, "
                      "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
}

TEST(AwsSigV4Test, GetHeaderValueTrim) {
  auto in = suiteInput("GET", "/");
  in.headers = {{"my-header1", " value1"}, {"my-header2", " \"a   b   c\""}};
  expectSuiteCase(in, kCreds,
                  "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                  "my-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
                  "host;my-header1;my-header2;x-amz-date\n" +
                      kEmptyHash,
                  "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
                  kCredPrefix +
                      "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                      "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST(AwsSigV4Test, GetHeaderKeyDuplicateAndValueOrder) {
  auto in = suiteInput("GET", "/");
  in.headers = {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}};
  expectSuiteCase(in, kCreds,
                  "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                  "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                      kEmptyHash,
                  "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
                  kCredPrefix +
                      "SignedHeaders=host;my-header1;x-amz-date, "
                      "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
  in.headers = {{"my-header1", "value4"},
                {"my-header1", "value1"},
                {"my-header1", "value3"},
                {"my-header1", "value2"}};
  expectSuiteCase(in, kCreds,
                  "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\n"
                  "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                      kEmptyHash,
                  "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
                  kCredPrefix +
                      "SignedHeaders=host;my-header1;x-amz-date, "
                      "Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
}

TEST(AwsSigV4Test, PostXWwwFormUrlencoded) {
  auto in = suiteInput("POST", "/");
  in.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  in.payload = "Param1=value1";
  const std::string body_hash = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
  EXPECT_EQ(sha256Hex(in.payload), body_hash);
  const std::string creq =
      "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
      "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n" +
      body_hash;
  EXPECT_EQ(canonicalRequest(in, kCreds), creq);
  EXPECT_EQ(header(signRequest(in, kCreds), "authorization"),
            kCredPrefix +
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(AwsSigV4Test, PostStsHeaderBefore) {
  // The session token is signed, as in the suite's post-sts-header-before case.
  Credentials creds = kCreds;
  creds.session_token = kSessionToken;
  const auto in = suiteInput("POST", "/");
  expectSuiteCase(in, creds,
                  "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                  "x-amz-security-token:" +
                      kSessionToken + "\n\nhost;x-amz-date;x-amz-security-token\n" + kEmptyHash,
                  "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
                  kCredPrefix +
                      "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                      "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
  const auto headers = signRequest(in, creds);
  EXPECT_EQ(header(headers, "x-amz-security-token"), kSessionToken);
  EXPECT_EQ(header(headers, "x-amz-content-sha256"), "<missing>");
  EXPECT_EQ(headers.size(), 3u);
}

TEST(AwsSigV4Test, NoSessionTokenMeansNoTokenHeader) {
  const auto headers = signRequest(suiteInput("POST", "/"), kCreds);
  EXPECT_EQ(headers.size(), 2u);
  EXPECT_EQ(header(headers, "x-amz-security-token"), "<missing>");
}

TEST(AwsSigV4Test, ContentShaHeaderIsAddedAndSigned) {
  auto in = suiteInput("POST", "/");
  in.payload = "{}";
  const auto headers = signRequest(in, kCreds, true);
  EXPECT_EQ(header(headers, "x-amz-content-sha256"), sha256Hex("{}"));
  EXPECT_NE(header(headers, "authorization")
                .find("SignedHeaders=host;x-amz-content-sha256;"
                      "x-amz-date, "),
            std::string::npos);
  EXPECT_NE(
      canonicalRequest(in, kCreds, true).find("\nx-amz-content-sha256:" + sha256Hex("{}") + "\n"),
      std::string::npos);
}

TEST(AwsSigV4Test, BedrockPathIsDoubleEncoded) {
  SigningInput in;
  in.method = "POST";
  in.host = "bedrock-runtime.us-east-1.amazonaws.com";
  in.path =
      "/model/" + percentEncode("anthropic.claude-3-5-sonnet-20240620-v1:0") + "/converse-stream";
  EXPECT_EQ(in.path, "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
  in.headers = {{"content-type", "application/json"}, {"accept", "application/json"}};
  in.payload = R"({"messages":[{"role":"user","content":[{"text":"hi"}]}]})";
  in.region = "us-east-1";
  in.service = "bedrock";
  in.now = suiteTime();
  const std::string creq = canonicalRequest(in, kCreds);
  const std::string expected_creq =
      "POST\n"
      "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse-stream\n"
      "\n"
      "accept:application/json\n"
      "content-type:application/json\n"
      "host:bedrock-runtime.us-east-1.amazonaws.com\n"
      "x-amz-date:20150830T123600Z\n"
      "\n"
      "accept;content-type;host;x-amz-date\n" +
      sha256Hex(in.payload);
  EXPECT_EQ(creq, expected_creq);
  const std::string sts = stringToSign(in, creq);
  EXPECT_EQ(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/bedrock/aws4_request\n" +
                     sha256Hex(expected_creq));
  const auto headers = signRequest(in, kCreds);
  EXPECT_EQ(header(headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
            "SignedHeaders=accept;content-type;host;x-amz-date, Signature=" +
                signature(in, kCreds, sts));
}

TEST(AwsSigV4Test, BedrockWithSessionTokenAndContentSha) {
  SigningInput in;
  in.method = "POST";
  in.host = "bedrock-runtime.eu-west-3.amazonaws.com";
  in.path = "/model/" + percentEncode("mistral.mistral-large-2402-v1:0") + "/converse";
  in.headers = {{"content-type", "application/json"}};
  in.payload = "{}";
  in.region = "eu-west-3";
  in.service = "bedrock";
  in.now = suiteTime();
  Credentials creds{"ASIAEXAMPLE", "secret", "token-value"};
  const auto headers = signRequest(in, creds, true);
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(header(headers, "x-amz-security-token"), "token-value");
  EXPECT_EQ(header(headers, "x-amz-content-sha256"), sha256Hex("{}"));
  const std::string authz = header(headers, "authorization");
  EXPECT_EQ(authz.rfind("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/eu-west-3/bedrock/"
                        "aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;"
                        "x-amz-date;x-amz-security-token, Signature=",
                        0),
            0u)
      << authz;
  EXPECT_NE(canonicalRequest(in, creds, true)
                .find("/model/mistral.mistral-large-2402-v1%253A0/converse\n"),
            std::string::npos);
  // The signature depends on the token: changing it changes the signature.
  Credentials other = creds;
  other.session_token = "another-token";
  EXPECT_NE(header(signRequest(in, other, true), "authorization"), authz);
}

TEST(AwsSigV4Test, S3PathIsNotEncodedAgain) {
  auto in = suiteInput("GET", "/bucket/a%3Ab//c");
  in.service = "s3";
  EXPECT_EQ(canonicalRequest(in, kCreds).substr(0, 21), "GET\n/bucket/a%3Ab//c\n");
}

TEST(AwsSigV4Test, QueryEdgeCases) {
  // Empty value, missing '=', empty parameters, '+' taken literally, bad escapes kept.
  auto in = suiteInput("GET", "/", "b=&a&&c=x+y&d=%zz&e=%2f");
  const std::string creq = canonicalRequest(in, kCreds);
  EXPECT_EQ(creq.substr(0, creq.find("\nhost:")), "GET\n/\na=&b=&c=x%2By&d=%25zz&e=%2F");
}

TEST(AwsSigV4Test, EmptyPathIsSlash) {
  EXPECT_EQ(canonicalRequest(suiteInput("GET", ""), kCreds).substr(0, 6), "GET\n/\n");
}

}  // namespace
}  // namespace portico::aws
