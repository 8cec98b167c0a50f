#include "portico/custom_host_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "portico/http_types.hpp"

namespace portico {
namespace {

void expectAllowed(const CustomHostPolicy& policy, const std::vector<std::string>& urls) {
  for (const auto& url : urls) EXPECT_TRUE(policy.isAllowed(url)) << url;
}

void expectRejected(const CustomHostPolicy& policy, const std::vector<std::string>& urls) {
  for (const auto& url : urls) EXPECT_FALSE(policy.isAllowed(url)) << url;
}

TEST(CustomHostPolicyTest, AllowsPublicHosts) {
  CustomHostPolicy policy;
  expectAllowed(policy, {
                            "https://api.example.com/v1", "http://api.example.com",
                            "https://API.Example.COM/v1", "https://api.example.com:443/v1?x=1",
                            "https://my-resource.openai.azure.com/openai", "https://8.8.8.8/v1",
                            "https://172.32.0.1/v1",   // just outside 172.16/12
                            "https://100.128.0.1/v1",  // just outside 100.64/10
                            "http://ollama:11434",     // single-label service names, as Portkey
                            "https://a.b.c.d.e.f.g.h.i.com/",  // 10 labels
                            "https://[2001:4860:4860::8888]/v1", "https://[::ffff:8.8.8.8]/v1",
                            "http://example.com:/v1",  // empty port: scheme default
                        });
}

TEST(CustomHostPolicyTest, AllowsDefaultTrustedHosts) {
  CustomHostPolicy policy;
  expectAllowed(policy, {
                            "http://127.0.0.1:8080/v1",
                            "http://localhost:11434",
                            "http://LOCALHOST:11434",
                            "http://foo.localhost:3000/v1",
                            "http://host.docker.internal:8000/v1",
                            "http://[::1]:8080/v1",
                        });
  EXPECT_EQ(CustomHostPolicy::defaultTrustedHosts(),
            (std::vector<std::string>{"localhost", "127.0.0.1", "::1", "host.docker.internal"}));
}

TEST(CustomHostPolicyTest, RejectsSchemesAndCredentials) {
  CustomHostPolicy policy;
  expectRejected(policy, {
                             "",
                             "api.example.com/v1",
                             "file:///etc/passwd",
                             "data:text/plain,hello",
                             "gopher://example.com/",
                             "ftp://example.com/",
                             "ftps://example.com/",
                             "javascript:alert(1)",
                             "ws://example.com/",
                             "http://",
                             "http:example.com",
                             "https://user:pass@api.example.com/v1",
                             "https://user@api.example.com/v1",
                             "https://api.example.com/v1/@evil.com",
                             "https://api.example.com/v1?to=a@b",
                             "http://127.0.0.1@evil.com/",
                         });
}

TEST(CustomHostPolicyTest, RejectsPortkeyHosts) {
  CustomHostPolicy policy;
  expectRejected(policy, {"https://api.portkey.ai/v1", "https://API.PORTKEY.AI/v1",
                          "https://api.portkey.example.com/"});
}

TEST(CustomHostPolicyTest, RejectsSuspiciousHostCharacters) {
  CustomHostPolicy policy;
  expectRejected(policy,
                 {
                     "http://exa%6dple.com/", "http://exa mple.com/", " http://example.com/",
                     "http://example.com/ ", "http://example.com\t/", "http://exa<mple.com/",
                     "http://a{b}.com/", "http://a|b.com/", "http://a\\b.com/", "http://a^b.com/",
                     "http://a`b.com/", "http://ex_ample.com/",
                     "http://ex\xc3\xa1mple.com/",  // non-ASCII (homograph)
                     "http://example.com./", "http://example..com/",
                     "http://a.b.c.d.e.f.g.h.i.j.com/",  // 11 labels
                     "http://[v1.fe80::1]/",             // IPvFuture
                 });
}

TEST(CustomHostPolicyTest, RejectsMetadataHosts) {
  CustomHostPolicy policy;
  expectRejected(policy, {
                             "http://169.254.169.254/latest/meta-data",
                             "http://169.254.169.1/",
                             "http://metadata.google.internal/computeMetadata/v1",
                             "http://metadata/",
                             "http://METADATA/",
                             "http://metadata.azure.com/",
                             "http://instance-data/latest",
                             "http://[fd00:ec2::254]/latest",
                             "http://[fd00:ec2::1]/",
                         });
}

TEST(CustomHostPolicyTest, RejectsInternalTlds) {
  CustomHostPolicy policy;
  for (const char* tld : {"local", "localdomain", "internal", "intranet", "lan", "home", "corp",
                          "test", "invalid", "onion"}) {
    EXPECT_FALSE(policy.isAllowed(std::string("http://svc.") + tld + "/v1")) << tld;
  }
  // *.localhost is only trusted while `localhost` is.
  CustomHostPolicy without_localhost({"127.0.0.1"});
  expectRejected(without_localhost, {"http://foo.localhost/", "http://localhost/"});
}

TEST(CustomHostPolicyTest, RejectsPrivateAndReservedIpv4) {
  CustomHostPolicy policy;
  expectRejected(policy, {
                             "http://10.0.0.1/v1",
                             "http://10.255.255.255/",
                             "http://172.16.0.1/",
                             "http://172.31.255.255/",
                             "http://192.168.1.1/",
                             "http://127.0.0.2/",  // only 127.0.0.1 itself is trusted
                             "http://169.254.1.1/",
                             "http://100.64.0.1/",
                             "http://100.127.255.255/",
                             "http://0.0.0.0/",
                             "http://0.1.2.3/",
                             "http://224.0.0.1/",
                             "http://240.0.0.1/",
                             "http://255.255.255.255/",
                         });
}

TEST(CustomHostPolicyTest, RejectsAlternativeIpv4Forms) {
  CustomHostPolicy policy;
  expectRejected(policy, {
                             "http://2130706433/",  // 127.0.0.1 in decimal
                             "http://134744072/",   // 8.8.8.8 in decimal: still rejected
                             "http://0x7f000001/",
                             "http://0x7f.0.0.1/",
                             "http://0177.0.0.1/",
                             "http://017700000001/",
                             "http://127.1/",
                             "http://10.1/",
                             "http://1.2.3.4.5/",
                             "http://1.2.3.4.5",
                             "http://8.8.8.8.8/",
                             "http://256.1.1.1/",
                             "http://0x/",
                             "http://example.123/",
                         });
}

TEST(CustomHostPolicyTest, RejectsPrivateIpv6) {
  CustomHostPolicy policy({"localhost"});  // ::1 not trusted here
  expectRejected(policy, {
                             "http://[::1]/",
                             "http://[0:0:0:0:0:0:0:1]/",
                             "http://[::]/",
                             "http://[fc00::1]/",
                             "http://[fd12:3456::1]/",
                             "http://[fe80::1]/",
                             "http://[febf::1]/",
                             "http://[fec0::1]/",
                             "http://[ff02::1]/",
                             "http://[::ffff:10.0.0.1]/",
                             "http://[::ffff:127.0.0.1]/",
                             "http://[::ffff:169.254.169.254]/",
                             "http://[::ffff:a9fe:a9fe]/",
                             "http://[::10.0.0.1]/",
                             "http://[64:ff9b::a00:1]/",
                             "http://[fe80::1%25eth0]/",
                         });
  EXPECT_TRUE(policy.isAllowed("http://[2606:4700::1111]/"));
}

TEST(CustomHostPolicyTest, ChecksPorts) {
  CustomHostPolicy policy;
  expectAllowed(policy, {"https://api.example.com:1/", "https://api.example.com:65535/",
                         "http://localhost:65535/"});
  expectRejected(policy, {
                             "https://api.example.com:0/",
                             "https://api.example.com:65536/",
                             "https://api.example.com:99999/",
                             "https://api.example.com:123456/",
                             "https://api.example.com:80a/",
                             "https://api.example.com:80a",
                             "https://api.example.com:443.evil.com/",
                             "http://localhost:0/",  // trusted hosts still get the port check
                             "http://127.0.0.1:70000/",
                             "http://[::1]:0/",
                         });
}

TEST(CustomHostPolicyTest, ReplacedTrustedList) {
  CustomHostPolicy policy(CustomHostPolicy::parseList("10.0.0.5, internal-llm.corp"));
  expectAllowed(policy, {"http://10.0.0.5:8000/v1", "http://internal-llm.corp/v1",
                         "https://api.example.com/v1"});
  // The defaults are gone: loopback is now just a reserved address.
  expectRejected(policy, {"http://127.0.0.1:8080/v1", "http://localhost:8080/",
                          "http://[::1]:8080/", "http://10.0.0.6/", "http://10.0.0.5:0/"});
}

TEST(CustomHostPolicyTest, TrustedIpv6IsComparedByAddress) {
  CustomHostPolicy policy({"0:0:0:0:0:0:0:1", "[fd00::5]"});
  expectAllowed(policy, {"http://[::1]:8080/", "http://[fd00::5]/"});
  expectRejected(policy, {"http://[fd00::6]/", "http://127.0.0.1/"});
}

TEST(CustomHostPolicyTest, EmptyTrustedListTrustsNothing) {
  CustomHostPolicy policy(std::vector<std::string>{});
  expectRejected(policy, {"http://localhost/", "http://127.0.0.1/", "http://[::1]/"});
  EXPECT_TRUE(policy.isAllowed("https://api.example.com/"));
}

TEST(CustomHostPolicyTest, ParseList) {
  EXPECT_EQ(CustomHostPolicy::parseList(" Localhost , 10.0.0.5,,[::1] , "),
            (std::vector<std::string>{"localhost", "10.0.0.5", "::1"}));
  EXPECT_TRUE(CustomHostPolicy::parseList("").empty());
  EXPECT_TRUE(CustomHostPolicy::parseList(" , ,").empty());
}

TEST(CustomHostPolicyTest, HostileInputNeverCrashes) {
  CustomHostPolicy policy;
  std::string long_host = "http://" + std::string(100000, 'a') + ".com/";
  EXPECT_FALSE(policy.isAllowed(long_host));
  std::string zeros("http://", 7);
  zeros += std::string("\0\0\0", 3);
  EXPECT_FALSE(policy.isAllowed(zeros));
  EXPECT_FALSE(policy.isAllowed("http://[::1"));
  EXPECT_FALSE(policy.isAllowed("http://[]/"));
  EXPECT_FALSE(policy.isAllowed("http://:80/"));
  EXPECT_FALSE(policy.isAllowed("://"));
  EXPECT_FALSE(policy.isAllowed("http://%/"));
}

}  // namespace
}  // namespace portico

namespace portico {
namespace {

CustomHostPolicy::Address mapped(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

TEST(CustomHostPolicyResolved, PrivateAndMetadataAddressesAreRefusedWhateverTheName) {
  CustomHostPolicy policy;  // the default list trusts localhost, 127.0.0.1, ::1
  EXPECT_FALSE(policy.allowsResolvedAddress("api.example.com", mapped(10, 0, 0, 5)));
  EXPECT_FALSE(policy.allowsResolvedAddress("api.example.com", mapped(169, 254, 169, 254)));
  EXPECT_FALSE(policy.allowsResolvedAddress("api.example.com", mapped(192, 168, 1, 1)));
  EXPECT_TRUE(policy.allowsResolvedAddress("api.example.com", mapped(93, 184, 216, 34)));
  CustomHostPolicy::Address ula{0xfd, 0, 0xec, 2};
  EXPECT_FALSE(policy.allowsResolvedAddress("api.example.com", ula));
}

TEST(CustomHostPolicyResolved, TrustedNamesAndTrustedAddressesPass) {
  CustomHostPolicy policy;
  EXPECT_TRUE(policy.allowsResolvedAddress("LOCALHOST", mapped(127, 0, 0, 1)));
  EXPECT_TRUE(policy.allowsResolvedAddress("anything.example", mapped(127, 0, 0, 1)));
  CustomHostPolicy strict({"10.0.0.5", "gpu-box.example"});
  EXPECT_TRUE(strict.allowsResolvedAddress("a.example", mapped(10, 0, 0, 5)));
  EXPECT_FALSE(strict.allowsResolvedAddress("a.example", mapped(10, 0, 0, 6)));
  EXPECT_FALSE(strict.allowsResolvedAddress("a.example", mapped(127, 0, 0, 1)));
  EXPECT_TRUE(strict.allowsResolvedAddress("gpu-box.example", mapped(10, 9, 9, 9)));
}

TEST(ParseBaseUrl, MalformedInputIsRefusedBeforeBoostUrlSeesIt) {
  // Boost.URL 1.81 asserts (path_segments, nseg == 0) on this one.
  EXPECT_FALSE(parseBaseUrl("jtout: "));
  EXPECT_FALSE(parseBaseUrl("http://a b/"));
  EXPECT_FALSE(parseBaseUrl("ftp://host/"));
  EXPECT_FALSE(parseBaseUrl("http://h:80a/"));
  // Found by fuzz_custom_host_policy: "<scheme>:" then ? # [ ] ` ... asserted in the guard too.
  const CustomHostPolicy policy;
  for (const char* url : {"T:[", "http:?", "http:#", "https:`", "jtout: "}) {
    EXPECT_FALSE(policy.isAllowed(url)) << url;
    EXPECT_FALSE(parseBaseUrl(url)) << url;
  }
  auto ok = parseBaseUrl("HTTPS://api.openai.com/v1/");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->host, "api.openai.com");
  EXPECT_EQ(ok->path, "/v1");
}

}  // namespace
}  // namespace portico
