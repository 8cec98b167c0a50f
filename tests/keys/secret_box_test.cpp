// keys::MasterKey, seal and unseal: round trips, every way a sealed text must fail to open
// (tamper, wrong key, wrong context, garbage), key parsing and where load() looks.

#include "keys/secret_box.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "portico/encoding.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

namespace fs = std::filesystem;

// What `openssl rand -base64 32` prints, newline included.
std::string keyText(char fill) { return base64Encode(std::string(32, fill)) + "\n"; }

MasterKey keyOf(char fill) { return MasterKey::fromBase64(keyText(fill)); }

constexpr const char* kSecret = R"({"api_key":"sk-live-0123456789"})";

TEST(SecretBox, SealThenUnsealRoundTrips) {
  const MasterKey key = keyOf('k');

  const std::string sealed = seal(key, kSecret, "vk_0001");

  EXPECT_EQ(sealed.find("sk-live"), std::string::npos);
  EXPECT_EQ(unseal(key, sealed, "vk_0001"), std::optional<std::string>(kSecret));
}

TEST(SecretBox, EmptyPlaintextAndContextRoundTrip) {
  const MasterKey key = keyOf('k');

  EXPECT_EQ(unseal(key, seal(key, "", ""), ""), std::optional<std::string>(""));
  EXPECT_EQ(unseal(key, seal(key, "x", ""), ""), std::optional<std::string>("x"));
}

TEST(SecretBox, SealedLayoutIsNonceCiphertextTag) {
  const MasterKey key = keyOf('k');

  const auto raw = base64Decode(seal(key, "hello", "ctx"));

  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 12u + 5u + 16u);
}

TEST(SecretBox, TwoSealsOfTheSameTextDiffer) {
  const MasterKey key = keyOf('k');

  EXPECT_NE(seal(key, kSecret, "vk_1"), seal(key, kSecret, "vk_1"));
}

TEST(SecretBox, AnyFlippedByteFailsToOpen) {
  const MasterKey key = keyOf('k');
  const std::string raw = *base64Decode(seal(key, kSecret, "vk_1"));

  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string tampered = raw;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_EQ(unseal(key, base64Encode(tampered), "vk_1"), std::nullopt) << "byte " << i;
  }
}

TEST(SecretBox, WrongKeyFailsToOpen) {
  const std::string sealed = seal(keyOf('k'), kSecret, "vk_1");

  EXPECT_EQ(unseal(keyOf('j'), sealed, "vk_1"), std::nullopt);
}

TEST(SecretBox, WrongContextFailsToOpen) {
  const MasterKey key = keyOf('k');
  const std::string sealed = seal(key, kSecret, "vk_1");

  EXPECT_EQ(unseal(key, sealed, "vk_2"), std::nullopt);
  EXPECT_EQ(unseal(key, sealed, ""), std::nullopt);
}

TEST(SecretBox, GarbageAndShortInputFailToOpen) {
  const MasterKey key = keyOf('k');
  const std::string sealed = seal(key, kSecret, "vk_1");

  EXPECT_EQ(unseal(key, "", "vk_1"), std::nullopt);
  EXPECT_EQ(unseal(key, "not base64 at all!", "vk_1"), std::nullopt);
  EXPECT_EQ(unseal(key, base64Encode("short"), "vk_1"), std::nullopt);
  EXPECT_EQ(unseal(key, base64Encode(std::string(28, '\0')), "vk_1"), std::nullopt);
  EXPECT_EQ(unseal(key, sealed.substr(0, sealed.size() - 8), "vk_1"), std::nullopt);
  EXPECT_EQ(unseal(MasterKey{}, sealed, "vk_1"), std::nullopt);
}

TEST(SecretBox, FromBase64AcceptsOpensslOutputWithNewline) {
  const std::string bytes(32, 'z');

  const MasterKey key = MasterKey::fromBase64("  " + base64Encode(bytes) + "\r\n");

  EXPECT_EQ(key.bytes(), bytes);
  EXPECT_EQ(key.id(), sha256Hex(bytes).substr(0, 16));
  EXPECT_EQ(key.id().size(), 16u);
}

TEST(SecretBox, DifferentKeysHaveDifferentIds) { EXPECT_NE(keyOf('a').id(), keyOf('b').id()); }

TEST(SecretBox, WrongLengthThrowsWithoutEchoingTheKey) {
  const std::string short_key = base64Encode("ShortKeyMaterial0123");  // 20 bytes
  const std::string not_base64 = "SuperSecretNotBase64!!";

  for (const std::string& text : {short_key, not_base64, base64Encode(std::string(33, 'q'))}) {
    try {
      MasterKey::fromBase64(text);
      FAIL() << "accepted a bad key";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  }
}

class SecretBoxLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("PORTICO_MASTER_KEY")) saved_ = old;
    ::unsetenv("PORTICO_MASTER_KEY");
    file_ = testing::uniqueTempPath("portico_master");
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("PORTICO_MASTER_KEY", saved_->c_str(), 1);
    } else {
      ::unsetenv("PORTICO_MASTER_KEY");
    }
    std::error_code ec;
    fs::remove(file_, ec);
  }

  void writeFile(const std::string& text) { std::ofstream(file_) << text; }

  std::optional<std::string> saved_;
  fs::path file_;
};

TEST_F(SecretBoxLoad, PrefersEnvironmentOverFile) {
  writeFile(keyText('f'));
  ::setenv("PORTICO_MASTER_KEY", keyText('e').c_str(), 1);

  const auto key = MasterKey::load(file_);

  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->bytes(), std::string(32, 'e'));
}

TEST_F(SecretBoxLoad, EmptyEnvironmentFallsBackToFile) {
  writeFile(keyText('f'));
  ::setenv("PORTICO_MASTER_KEY", "", 1);

  const auto key = MasterKey::load(file_);

  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->bytes(), std::string(32, 'f'));
  EXPECT_EQ(key->id(), MasterKey::fromFile(file_).id());
}

TEST_F(SecretBoxLoad, NothingConfiguredIsNothing) { EXPECT_FALSE(MasterKey::load("").has_value()); }

TEST_F(SecretBoxLoad, MissingOrBadFileThrows) {
  EXPECT_THROW(MasterKey::load(file_), std::invalid_argument);
  writeFile("not-a-key");
  EXPECT_THROW(MasterKey::load(file_), std::invalid_argument);
}

TEST_F(SecretBoxLoad, BadEnvironmentKeyThrowsWithoutEchoingIt) {
  ::setenv("PORTICO_MASTER_KEY", "TopSecretButTooShort", 1);

  try {
    MasterKey::load("");
    FAIL() << "accepted a bad key";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("TopSecret"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace portico::keys
