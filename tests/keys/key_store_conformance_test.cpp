// What every KeyStore does, run against each one: SQLite in a fresh temp directory and
// Postgres in a fresh database of a throwaway server (skipped when PostgreSQL is not
// installed). Key round trips, ordering, uniqueness, the generation counter across two store
// objects (two processes on one store), usage upserts and their filters, reopening. What only
// one store does is in sqlite_key_store_test.cpp and postgres_key_store_test.cpp.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "keys/key_store.hpp"
#include "keys/key_store_samples.hpp"
#include "keys/sqlite_key_store.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using samples::expectSameRecord;
using samples::fullRecord;
using samples::usageRow;

// One empty store per test; open() again is another connection to the same store, as a
// second process (the CLI, another gateway) has.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::unique_ptr<KeyStore> open() = 0;
};

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() : dir_(testing::uniqueTempPath("portico_conformance")) {}
  ~SqliteBackend() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<KeyStore> open() override { return openSqliteKeyStore(dir_); }

 private:
  fs::path dir_;
};

class PostgresBackend final : public StoreBackend {
 public:
  explicit PostgresBackend(std::string url) : url_(std::move(url)) {}
  std::unique_ptr<KeyStore> open() override { return openPostgresKeyStore(url_); }

 private:
  std::string url_;
};

class KeyStoreConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // One server for the whole suite, started by its first Postgres test.
  static void TearDownTestSuite() { postgres_.reset(); }

  void SetUp() override {
    if (GetParam() == "Sqlite") {
      backend_ = std::make_unique<SqliteBackend>();
      return;
    }
    if (!postgres_) postgres_ = std::make_unique<testing::PostgresServer>();
    if (!postgres_->available()) GTEST_SKIP() << postgres_->skipReason();
    static int databases = 0;
    backend_ = std::make_unique<PostgresBackend>(
        postgres_->createDatabase("conformance_" + std::to_string(++databases)));
  }

  std::unique_ptr<KeyStore> open() { return backend_->open(); }

  static inline std::unique_ptr<testing::PostgresServer> postgres_;
  std::unique_ptr<StoreBackend> backend_;
};

INSTANTIATE_TEST_SUITE_P(Stores,
                         KeyStoreConformanceTest,
                         ::testing::Values("Sqlite", "Postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(KeyStoreConformanceTest, InsertThenFindReturnsEveryMember) {
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

TEST_P(KeyStoreConformanceTest, DefaultRecordRoundTripsUnsetMembers) {
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

TEST_P(KeyStoreConformanceTest, ExtremeValuesRoundTripExactly) {
  auto store = open();
  KeyRecord record = fullRecord("vk_1", "ünïcødé 名前 🔑");
  record.budget.usd = 0.1 + 0.2;  // not a short decimal
  record.budget.tokens = std::numeric_limits<std::int64_t>::max();
  record.rpm = std::numeric_limits<std::int64_t>::min();
  record.expires_at = 0;
  record.metadata = json{{"nul", std::string("a\0b", 3)}, {"quote", "'; DROP TABLE keys; --"}};
  record.custom_host = "";

  store->insert(record);

  auto found = store->find("vk_1");
  ASSERT_TRUE(found.has_value());
  expectSameRecord(*found, record);
  EXPECT_TRUE(store->findByName("ünïcødé 名前 🔑").has_value());
}

TEST_P(KeyStoreConformanceTest, AllListsInCreationOrderThenInsertionOrder) {
  auto store = open();
  KeyRecord late = fullRecord("vk_a", "late");
  late.created_at = 300;
  KeyRecord early = fullRecord("vk_b", "early");
  early.created_at = 100;
  KeyRecord middle = fullRecord("vk_c", "middle");
  middle.created_at = 200;
  KeyRecord tie_second = fullRecord("vk_0", "tie-second");  // sorts first by id
  tie_second.created_at = 200;
  store->insert(late);
  store->insert(early);
  store->insert(middle);
  store->insert(tie_second);

  const auto records = store->all();

  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].name, "early");
  EXPECT_EQ(records[1].name, "middle");
  EXPECT_EQ(records[2].name, "tie-second");
  EXPECT_EQ(records[3].name, "late");
  expectSameRecord(records[0], early);
}

TEST_P(KeyStoreConformanceTest, UpdateReplacesEveryMember) {
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

TEST_P(KeyStoreConformanceTest, UpdateOfUnknownIdReturnsFalse) {
  auto store = open();
  const auto before = store->generation();

  EXPECT_FALSE(store->update(fullRecord("vk_nobody", "x")));
  EXPECT_EQ(store->generation(), before);
  EXPECT_TRUE(store->all().empty());
}

TEST_P(KeyStoreConformanceTest, RemoveDeletesKeyAndItsUsage) {
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

TEST_P(KeyStoreConformanceTest, DuplicateNameIsRefusedAsDuplicate) {
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

TEST_P(KeyStoreConformanceTest, UpdateToATakenNameIsRefused) {
  auto store = open();
  store->insert(fullRecord("vk_1", "first"));
  store->insert(fullRecord("vk_2", "second"));
  KeyRecord renamed = fullRecord("vk_2", "first");

  EXPECT_THROW(store->update(renamed), DuplicateKeyError);
  EXPECT_EQ(store->find("vk_2")->name, "second");
}

TEST_P(KeyStoreConformanceTest, DuplicateHashAndIdAreRefused) {
  auto store = open();
  store->insert(fullRecord("vk_1", "first"));
  KeyRecord same_hash = fullRecord("vk_2", "second");
  same_hash.key_hash = fullRecord("vk_1", "").key_hash;
  KeyRecord same_id = fullRecord("vk_1", "third");
  same_id.key_hash = std::string(64, 'f');

  EXPECT_THROW(store->insert(same_hash), DuplicateKeyError);
  EXPECT_THROW(store->insert(same_id), DuplicateKeyError);
  EXPECT_EQ(store->all().size(), 1u);
}

TEST_P(KeyStoreConformanceTest, ErrorsDoNotEchoSealedSecrets) {
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

TEST_P(KeyStoreConformanceTest, GenerationGrowsOnEachChangeAndIsSeenByAnotherStore) {
  auto gateway = open();
  auto cli = open();  // a second connection, as the CLI or another gateway has
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

TEST_P(KeyStoreConformanceTest, ConcurrentWritersOnTwoConnectionsAllLand) {
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

TEST_P(KeyStoreConformanceTest, FailedWriteLeavesGenerationAlone) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));
  const auto before = store->generation();

  EXPECT_THROW(store->insert(fullRecord("vk_2", "one")), DuplicateKeyError);
  EXPECT_FALSE(store->remove("vk_none"));

  EXPECT_EQ(store->generation(), before);
}

TEST_P(KeyStoreConformanceTest, UsageUpsertAddsAndFilters) {
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

TEST_P(KeyStoreConformanceTest, UsageIsOrderedByteWiseByKeyDayAndModel) {
  auto store = open();
  store->insert(fullRecord("vk_B", "upper"));
  store->insert(fullRecord("vk_a", "lower"));
  store->addUsage({usageRow("vk_a", "2024-05-01", "b", 1), usageRow("vk_a", "2024-05-01", "B", 1),
                   usageRow("vk_B", "2024-05-01", "a", 1)});

  const auto rows = store->usage("", "", "");

  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key_id, "vk_B");  // 'B' < 'a' in bytes, whatever a locale says
  EXPECT_EQ(rows[1].model, "B");
  EXPECT_EQ(rows[2].model, "b");
}

TEST_P(KeyStoreConformanceTest, UsageOfAnUnknownKeyIsDropped) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));

  store->addUsage(
      {usageRow("vk_gone", "2024-05-01", "m", 1), usageRow("vk_1", "2024-05-01", "m", 1)});

  const auto rows = store->usage("", "", "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key_id, "vk_1");
}

TEST_P(KeyStoreConformanceTest, UsageOfAKeyRemovedByAnotherStoreIsDropped) {
  auto gateway = open();
  auto cli = open();
  gateway->insert(fullRecord("vk_1", "one"));
  gateway->addUsage({usageRow("vk_1", "2024-05-01", "m", 1)});

  cli->remove("vk_1");
  gateway->addUsage({usageRow("vk_1", "2024-05-01", "m", 2)});

  EXPECT_TRUE(cli->usage("", "", "").empty());
}

TEST_P(KeyStoreConformanceTest, UsageDoesNotMoveGeneration) {
  auto store = open();
  store->insert(fullRecord("vk_1", "one"));
  const auto before = store->generation();

  store->addUsage({usageRow("vk_1", "2024-05-01", "m", 1)});

  EXPECT_EQ(store->generation(), before);
}

TEST_P(KeyStoreConformanceTest, FreshStoreIsAtLatestSchemaAndReopeningIsIdempotent) {
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

TEST_P(KeyStoreConformanceTest, DataPersistsAcrossReopen) {
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

TEST_P(KeyStoreConformanceTest, ChangesReachOtherProcessesWithinASecond) {
  EXPECT_LE(open()->changePollInterval(), std::chrono::seconds(1));
}

}  // namespace
}  // namespace portico::keys
