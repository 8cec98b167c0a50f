#include "redis/redis_url.hpp"

#include <gtest/gtest.h>

namespace portico::redis {
namespace {

TEST(RedisUrl, ReadsHostPortPasswordAndDatabase) {
  std::string why;
  auto endpoint = parseRedisUrl("redis://:s3cret@cache.internal:6380/2", why);
  ASSERT_TRUE(endpoint) << why;
  EXPECT_EQ(endpoint->host, "cache.internal");
  EXPECT_EQ(endpoint->port, 6380);
  EXPECT_EQ(endpoint->password, "s3cret");
  EXPECT_EQ(endpoint->user, "");
  EXPECT_EQ(endpoint->db, 2);
  EXPECT_EQ(endpoint->describe(), "cache.internal:6380/2");
}

TEST(RedisUrl, DefaultsAndAclUser) {
  std::string why;
  auto plain = parseRedisUrl("redis://127.0.0.1", why);
  ASSERT_TRUE(plain) << why;
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  auto acl = parseRedisUrl("redis://portico:p%40ss@[::1]:7000/0", why);
  ASSERT_TRUE(acl) << why;
  EXPECT_EQ(acl->host, "::1");
  EXPECT_EQ(acl->user, "portico");
  EXPECT_EQ(acl->password, "p@ss");  // percent-decoded
}

TEST(RedisUrl, RefusesWhatItCannotServeWithoutEchoingTheUrl) {
  for (const char* bad : {"rediss://:pw@host:6379", "http://host", "redis://", "not a url",
                          "redis://host:6379/16", "redis://host:6379/x", "redis://host:0"}) {
    std::string why;
    EXPECT_FALSE(parseRedisUrl(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
    EXPECT_EQ(why.find("pw"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace portico::redis
