// What only the SQLite store does, on a fresh temp directory: schema refusals (a newer
// version, a garbage file, another application's database), file permissions, WAL. What every
// store does is in key_store_conformance_test.cpp.

#include "keys/sqlite_key_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "keys/key_store.hpp"
#include "keys/key_store_samples.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

namespace fs = std::filesystem;
using samples::fullRecord;

// Runs constant SQL on the store's file behind the store's back.
void rawExec(const fs::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class SqliteKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::uniqueTempPath("portico_store");
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<KeyStore> open() { return openSqliteKeyStore(dir_); }
  fs::path dbFile() const { return dir_ / "portico.db"; }

  fs::path dir_;
};

TEST_F(SqliteKeyStoreTest, NewerSchemaIsRefused) {
  open();
  const std::string sql = "PRAGMA user_version = " + std::to_string(kSqliteSchemaVersion + 1);
  rawExec(dbFile(), sql.c_str());

  try {
    open();
    FAIL() << "a newer schema was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteKeyStoreTest, GarbageFileIsRefused) {
  fs::create_directories(dir_);
  std::ofstream(dbFile()) << std::string(4096, 'x');

  try {
    open();
    FAIL() << "a garbage file was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("not an SQLite database"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteKeyStoreTest, OtherApplicationsDatabaseIsRefused) {
  fs::create_directories(dir_);
  rawExec(dbFile(), "CREATE TABLE songs (title TEXT)");

  EXPECT_THROW(open(), StoreError);
}

TEST_F(SqliteKeyStoreTest, DirectoryAndFileArePrivate) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));

  struct stat file_info {};
  ASSERT_EQ(::stat(dbFile().c_str(), &file_info), 0);
  EXPECT_EQ(file_info.st_mode & 0777, 0600u);
  struct stat dir_info {};
  ASSERT_EQ(::stat(dir_.c_str(), &dir_info), 0);
  EXPECT_EQ(dir_info.st_mode & 0777, 0700u);
  struct stat wal_info {};
  if (::stat((dir_ / "portico.db-wal").c_str(), &wal_info) == 0) {
    EXPECT_EQ(wal_info.st_mode & 0777, 0600u);
  }
}

TEST_F(SqliteKeyStoreTest, UsesWriteAheadLog) {
  open();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dbFile().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace portico::keys
