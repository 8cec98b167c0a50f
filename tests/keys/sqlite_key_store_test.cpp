// keys::openSqliteKeyStore on a fresh temp directory: key round trips, uniqueness, the
// generation counter across two store objects (the CLI while the gateway runs), usage upserts,
// schema migrations and refusals, file permissions.

#include "keys/sqlite_key_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "keys/key_store.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

KeyRecord fullRecord(const std::string& id, const std::string& name) {
  KeyRecord r;
  r.id = id;
  r.name = name;
  r.provider = "openai";
  r.key_hash = std::string(64, 'a') + id;  // unique per id
  r.key_prefix = "pk-01234567";
  r.secrets = SealedSecrets{"c2VhbGVk", "0123456789abcdef"};
  r.fields = json{{"aws_region", "eu-west-1"}, {"nested", {{"n", 1}}}};
  r.custom_host = "https://llm.internal.example";
  r.config = json{{"retry", {{"attempts", 3}}}};
  r.models = {"gpt-4o", "gpt-4o-mini*"};
  r.rpm = 60;
  r.tpm = 100000;
  r.budget = Budget{12.5, 2000000, BudgetPeriod::kMonth};
  r.expires_at = 1900000000;
  r.enabled = false;
  r.metadata = json{{"team", "search"}, {"tags", {"a", "b"}}};
  r.created_at = 1700000000;
  r.updated_at = 1700000100;
  return r;
}

void expectSameRecord(const KeyRecord& a, const KeyRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.key_hash, b.key_hash);
  EXPECT_EQ(a.key_prefix, b.key_prefix);
  EXPECT_EQ(a.secrets.sealed, b.secrets.sealed);
  EXPECT_EQ(a.secrets.master_key_id, b.secrets.master_key_id);
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.custom_host, b.custom_host);
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.models, b.models);
  EXPECT_EQ(a.rpm, b.rpm);
  EXPECT_EQ(a.tpm, b.tpm);
  EXPECT_EQ(a.budget.usd, b.budget.usd);
  EXPECT_EQ(a.budget.tokens, b.budget.tokens);
  EXPECT_EQ(a.budget.period, b.budget.period);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

UsageRow usageRow(const std::string& key_id,
                  const std::string& day,
                  const std::string& model,
                  std::int64_t requests) {
  return UsageRow{key_id, day, model, requests, 10 * requests, 5 * requests, requests, 0.25};
}

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

TEST_F(SqliteKeyStoreTest, InsertThenFindReturnsEveryMember) {
  auto store = open();
  const KeyRecord record = fullRecord("vk_0000000000000001", "search-prod");

  store->insert(record);

  auto by_id = store->find(record.id);
  ASSERT_TRUE(by_id.has_value());
  expectSameRecord(*by_id, record);
  auto by_name = store->findByName("search-prod");
  ASSERT_TRUE(by_name.has_value());
  expectSameRecord(*by_name, record);
  EXPECT_FALSE(store->find("vk_missing").has_value());
  EXPECT_FALSE(store->findByName("nobody").has_value());
}

TEST_F(SqliteKeyStoreTest, DefaultRecordRoundTripsUnsetMembers) {
  auto store = open();
  KeyRecord record;
  record.id = "vk_0000000000000002";
  record.name = "plain";
  record.key_hash = std::string(64, 'b');

  store->insert(record);

  auto found = store->find(record.id);
  ASSERT_TRUE(found.has_value());
  expectSameRecord(*found, record);
  EXPECT_TRUE(found->config.is_null());
  EXPECT_TRUE(found->models.empty());
  EXPECT_TRUE(found->budget.empty());
  EXPECT_FALSE(found->expires_at.has_value());
}

TEST_F(SqliteKeyStoreTest, AllListsInCreationOrder) {
  auto store = open();
  KeyRecord late = fullRecord("vk_a", "late");
  late.created_at = 300;
  KeyRecord early = fullRecord("vk_b", "early");
  early.created_at = 100;
  KeyRecord middle = fullRecord("vk_c", "middle");
  middle.created_at = 200;
  store->insert(late);
  store->insert(early);
  store->insert(middle);

  const auto records = store->all();

  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].name, "early");
  EXPECT_EQ(records[1].name, "middle");
  EXPECT_EQ(records[2].name, "late");
  expectSameRecord(records[0], early);
}

TEST_F(SqliteKeyStoreTest, UpdateReplacesEveryMember) {
  auto store = open();
  store->insert(fullRecord("vk_1", "before"));
  KeyRecord changed;
  changed.id = "vk_1";
  changed.name = "after";
  changed.provider = "anthropic";
  changed.key_hash = std::string(64, 'c');
  changed.key_prefix = "pk-fedcba98";
  changed.secrets = SealedSecrets{"", ""};
  changed.fields = json{{"x", true}};
  changed.models = {"claude-*"};
  changed.budget = Budget{std::nullopt, 5, BudgetPeriod::kDay};
  changed.created_at = 5;
  changed.updated_at = 6;

  ASSERT_TRUE(store->update(changed));

  auto found = store->find("vk_1");
  ASSERT_TRUE(found.has_value());
  expectSameRecord(*found, changed);
  EXPECT_FALSE(store->findByName("before").has_value());
}

TEST_F(SqliteKeyStoreTest, UpdateOfUnknownIdReturnsFalse) {
  auto store = open();
  const auto before = store->generation();

  EXPECT_FALSE(store->update(fullRecord("vk_nobody", "x")));
  EXPECT_EQ(store->generation(), before);
  EXPECT_TRUE(store->all().empty());
}

TEST_F(SqliteKeyStoreTest, RemoveDeletesKeyAndItsUsage) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));
  store->insert(fullRecord("vk_2", "two"));
  store->addUsage(
      {usageRow("vk_1", "2024-05-01", "gpt-4o", 1), usageRow("vk_2", "2024-05-01", "gpt-4o", 2)});

  EXPECT_TRUE(store->remove("vk_1"));
  EXPECT_FALSE(store->remove("vk_1"));

  EXPECT_FALSE(store->find("vk_1").has_value());
  const auto rows = store->usage("", "", "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key_id, "vk_2");
}

TEST_F(SqliteKeyStoreTest, DuplicateNameIsRefusedAsDuplicate) {
  auto store = open();
  store->insert(fullRecord("vk_1", "taken"));

  try {
    store->insert(fullRecord("vk_2", "taken"));
    FAIL() << "a second key named 'taken' was stored";
  } catch (const DuplicateKeyError& e) {
    EXPECT_NE(std::string(e.what()).find("taken"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store->all().size(), 1u);
}

TEST_F(SqliteKeyStoreTest, UpdateToATakenNameIsRefused) {
  auto store = open();
  store->insert(fullRecord("vk_1", "first"));
  store->insert(fullRecord("vk_2", "second"));
  KeyRecord renamed = fullRecord("vk_2", "first");

  EXPECT_THROW(store->update(renamed), DuplicateKeyError);
  EXPECT_EQ(store->find("vk_2")->name, "second");
}

TEST_F(SqliteKeyStoreTest, DuplicateHashAndIdAreRefused) {
  auto store = open();
  store->insert(fullRecord("vk_1", "first"));
  KeyRecord same_hash = fullRecord("vk_2", "second");
  same_hash.key_hash = fullRecord("vk_1", "").key_hash;
  KeyRecord same_id = fullRecord("vk_1", "third");
  same_id.key_hash = std::string(64, 'f');

  EXPECT_THROW(store->insert(same_hash), StoreError);
  EXPECT_THROW(store->insert(same_id), StoreError);
  EXPECT_EQ(store->all().size(), 1u);
}

TEST_F(SqliteKeyStoreTest, ErrorsDoNotEchoSealedSecrets) {
  auto store = open();
  KeyRecord first = fullRecord("vk_1", "first");
  first.secrets.sealed = "SECRET-SEALED-TEXT";
  store->insert(first);
  KeyRecord second = first;
  second.id = "vk_2";

  try {
    store->insert(second);
    FAIL() << "duplicate accepted";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteKeyStoreTest, GenerationGrowsOnEachChangeAndIsSeenByAnotherStore) {
  auto gateway = open();
  auto cli = open();  // a second connection, as the CLI has while the gateway runs
  const auto start = gateway->generation();

  cli->insert(fullRecord("vk_1", "one"));
  const auto after_insert = gateway->generation();
  KeyRecord changed = fullRecord("vk_1", "one-renamed");
  cli->update(changed);
  const auto after_update = gateway->generation();
  cli->remove("vk_1");
  const auto after_remove = gateway->generation();

  EXPECT_GT(after_insert, start);
  EXPECT_GT(after_update, after_insert);
  EXPECT_GT(after_remove, after_update);
  EXPECT_EQ(cli->generation(), after_remove);
  EXPECT_FALSE(gateway->find("vk_1").has_value());
}

TEST_F(SqliteKeyStoreTest, ConcurrentWritersOnTwoConnectionsAllLand) {
  auto first = open();
  auto second = open();
  const auto start = first->generation();
  auto writer = [](KeyStore& store, const std::string& tag) {
    for (int i = 0; i < 20; ++i) {
      const std::string id = "vk_" + tag + std::to_string(i);
      store.insert(fullRecord(id, tag + "-" + std::to_string(i)));
      store.addUsage({usageRow(id, "2024-05-01", "m", 1)});
    }
  };

  std::thread a(writer, std::ref(*first), "a");
  std::thread b(writer, std::ref(*second), "b");
  std::thread c(writer, std::ref(*first), "c");  // the same connection from another thread
  a.join();
  b.join();
  c.join();

  EXPECT_EQ(second->all().size(), 60u);
  EXPECT_EQ(first->usage("", "", "").size(), 60u);
  EXPECT_EQ(second->generation(), start + 60);
}

TEST_F(SqliteKeyStoreTest, FailedWriteLeavesGenerationAlone) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));
  const auto before = store->generation();

  EXPECT_THROW(store->insert(fullRecord("vk_2", "one")), DuplicateKeyError);
  EXPECT_FALSE(store->remove("vk_none"));

  EXPECT_EQ(store->generation(), before);
}

TEST_F(SqliteKeyStoreTest, UsageUpsertAddsAndFilters) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));
  store->insert(fullRecord("vk_2", "two"));
  store->addUsage({usageRow("vk_1", "2024-05-01", "gpt-4o", 1),
                   usageRow("vk_1", "2024-05-02", "gpt-4o", 2),
                   usageRow("vk_2", "2024-05-02", "gpt-4o", 4)});
  store->addUsage({usageRow("vk_1", "2024-05-01", "gpt-4o", 3),
                   usageRow("vk_1", "2024-05-03", "gpt-4o-mini", 1)});

  const auto mine = store->usage("vk_1", "", "");
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_EQ(mine[0].day, "2024-05-01");
  EXPECT_EQ(mine[0].requests, 4);
  EXPECT_EQ(mine[0].prompt_tokens, 40);
  EXPECT_EQ(mine[0].completion_tokens, 20);
  EXPECT_EQ(mine[0].cached_tokens, 4);
  EXPECT_DOUBLE_EQ(mine[0].cost_usd, 0.5);
  EXPECT_EQ(mine[2].model, "gpt-4o-mini");

  const auto ranged = store->usage("vk_1", "2024-05-02", "2024-05-02");
  ASSERT_EQ(ranged.size(), 1u);
  EXPECT_EQ(ranged[0].requests, 2);

  const auto from = store->usage("", "2024-05-02", "");
  ASSERT_EQ(from.size(), 3u);
  EXPECT_EQ(from[0].key_id, "vk_1");
  EXPECT_EQ(from[2].key_id, "vk_2");

  EXPECT_EQ(store->usage("", "", "2024-05-01").size(), 1u);
  EXPECT_EQ(store->usage("", "", "").size(), 4u);
}

TEST_F(SqliteKeyStoreTest, UsageOfAnUnknownKeyIsDropped) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));

  store->addUsage(
      {usageRow("vk_gone", "2024-05-01", "m", 1), usageRow("vk_1", "2024-05-01", "m", 1)});

  const auto rows = store->usage("", "", "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key_id, "vk_1");
}

TEST_F(SqliteKeyStoreTest, UsageDoesNotMoveGeneration) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));
  const auto before = store->generation();

  store->addUsage({usageRow("vk_1", "2024-05-01", "m", 1)});

  EXPECT_EQ(store->generation(), before);
}

TEST_F(SqliteKeyStoreTest, FreshStoreIsAtLatestSchemaAndReopeningIsIdempotent) {
  {
    auto store = open();
    EXPECT_EQ(store->schemaVersion(), kSqliteSchemaVersion);
    store->insert(fullRecord("vk_1", "one"));
  }
  auto again = open();
  auto third = open();

  EXPECT_EQ(again->schemaVersion(), kSqliteSchemaVersion);
  EXPECT_EQ(third->schemaVersion(), kSqliteSchemaVersion);
  EXPECT_EQ(again->all().size(), 1u);
}

TEST_F(SqliteKeyStoreTest, DataPersistsAcrossReopen) {
  const KeyRecord record = fullRecord("vk_1", "kept");
  std::int64_t generation = 0;
  {
    auto store = open();
    store->insert(record);
    store->addUsage({usageRow("vk_1", "2024-05-01", "m", 7)});
    generation = store->generation();
  }

  auto store = open();

  auto found = store->find("vk_1");
  ASSERT_TRUE(found.has_value());
  expectSameRecord(*found, record);
  EXPECT_EQ(store->generation(), generation);
  ASSERT_EQ(store->usage("vk_1", "", "").size(), 1u);
  EXPECT_EQ(store->usage("vk_1", "", "")[0].requests, 7);
}

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
