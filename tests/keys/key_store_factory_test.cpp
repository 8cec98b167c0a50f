// openKeyStore: which store a --store value names, and the refusal of anything else (without
// echoing it: it may hold a password). Postgres URLs are covered in postgres_key_store_test.cpp.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "keys/key_store.hpp"
#include "keys/key_store_samples.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

namespace fs = std::filesystem;

class KeyStoreFactoryTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::uniqueTempPath("portico_factory"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
};

TEST_F(KeyStoreFactoryTest, EmptyAndSqliteOpenTheFileInTheDataDir) {
  openKeyStore("", dir_)->insert(samples::fullRecord("vk_1", "one"));

  EXPECT_TRUE(fs::exists(dir_ / "portico.db"));
  EXPECT_EQ(openKeyStore("sqlite", dir_)->all().size(), 1u);
}

TEST_F(KeyStoreFactoryTest, AnythingElseIsRefusedWithoutEchoingIt) {
  for (const std::string store :
       {"mysql://portico:pw-secret@db/portico", "postgres:/x", "SQLite", "pw-secret"}) {
    try {
      openKeyStore(store, dir_);
      ADD_FAILURE() << "accepted " << store;
    } catch (const StoreError& e) {
      EXPECT_STREQ(e.what(), "--store must be sqlite or a postgres:// URL");
    }
  }
  EXPECT_FALSE(fs::exists(dir_));
}

}  // namespace
}  // namespace portico::keys
