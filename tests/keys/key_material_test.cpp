// keys::generateKey, hashKey, displayPrefix and newKeyId: formats, randomness, the hash.

#include "keys/key_material.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "portico/encoding.hpp"

namespace portico::keys {
namespace {

bool isLowerHex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(KeyMaterial, GeneratedKeyHasTheDocumentedFormat) {
  const NewKey key = generateKey();

  ASSERT_EQ(key.key.size(), 3u + 64u);
  EXPECT_EQ(key.key.substr(0, 3), "pk-");
  EXPECT_TRUE(isLowerHex(key.key.substr(3))) << key.key;
  EXPECT_EQ(key.hash, sha256Hex(key.key));
  EXPECT_EQ(key.prefix, key.key.substr(0, 11));
}

TEST(KeyMaterial, KeysAndIdsAreUnique) {
  std::set<std::string> keys;
  std::set<std::string> ids;
  for (int i = 0; i < 500; ++i) {
    keys.insert(generateKey().key);
    ids.insert(newKeyId());
  }

  EXPECT_EQ(keys.size(), 500u);
  EXPECT_EQ(ids.size(), 500u);
}

TEST(KeyMaterial, HashIsSha256OfTheKeyAsPresented) {
  EXPECT_EQ(hashKey("pk-abc"), sha256Hex("pk-abc"));
  EXPECT_EQ(hashKey(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hashKey("pk-abc").size(), 64u);
}

TEST(KeyMaterial, DisplayPrefixIsFirstElevenCharacters) {
  EXPECT_EQ(displayPrefix("pk-0123456789abcdef"), "pk-01234567");
  EXPECT_EQ(displayPrefix("pk-12"), "pk-12");
}

TEST(KeyMaterial, KeyIdHasTheDocumentedFormat) {
  const std::string id = newKeyId();

  ASSERT_EQ(id.size(), 3u + 16u);
  EXPECT_EQ(id.substr(0, 3), "vk_");
  EXPECT_TRUE(isLowerHex(id.substr(3))) << id;
}

}  // namespace
}  // namespace portico::keys
