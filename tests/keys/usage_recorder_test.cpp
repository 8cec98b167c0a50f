// UsageRecorder::flush against a store that fails on demand: the summed rows of a failed write
// are kept and go out, added to the new events, with the next flush; past the bound they are
// dropped and counted in lost().

#include "keys/usage_recorder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "keys/key_store.hpp"

namespace portico::keys {
namespace {

constexpr std::int64_t kMay1 = 1714564800;  // 2024-05-01T00:00:00Z
constexpr std::int64_t kMay2 = kMay1 + 86400;

// Records what addUsage() was given; throws StoreError while `failures` lasts.
class FlakyUsageStore final : public KeyStore {
 public:
  int failures = 0;
  std::vector<std::vector<UsageRow>> written;

  void addUsage(const std::vector<UsageRow>& rows) override {
    if (failures > 0) {
      --failures;
      throw StoreError("key store: postgres at 127.0.0.1:5432/portico is unreachable");
    }
    written.push_back(rows);
  }

  void insert(const KeyRecord&) override {}
  bool update(const KeyRecord&) override { return false; }
  bool remove(std::string_view) override { return false; }
  std::optional<KeyRecord> find(std::string_view) const override { return std::nullopt; }
  std::optional<KeyRecord> findByName(std::string_view) const override { return std::nullopt; }
  std::vector<KeyRecord> all() const override { return {}; }
  std::int64_t generation() const override { return 0; }
  std::vector<UsageRow> usage(std::string_view, std::string_view, std::string_view) const override {
    return {};
  }
  int schemaVersion() const override { return 1; }
};

UsageEvent event(const std::string& key, const std::string& model, std::int64_t at) {
  return UsageEvent{key, model, at, 10, 4, 2, 0.5};
}

TEST(UsageRecorderTest, RowsOfAFailedFlushAreWrittenWithTheNextOne) {
  FlakyUsageStore store;
  store.failures = 1;
  UsageRecorder recorder;
  recorder.record(event("vk_1", "m", kMay1));
  recorder.record(event("vk_1", "m", kMay1));
  recorder.record(event("vk_2", "m", kMay1));

  EXPECT_THROW(recorder.flush(store), StoreError);
  EXPECT_EQ(recorder.keptRows(), 2u);
  recorder.record(event("vk_1", "m", kMay1));  // adds to a kept row
  recorder.record(event("vk_1", "m", kMay2));  // a row of its own
  EXPECT_EQ(recorder.flush(store), 2u);        // the new events; the kept ones go along

  ASSERT_EQ(store.written.size(), 1u);
  const std::vector<UsageRow>& rows = store.written[0];
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key_id, "vk_1");
  EXPECT_EQ(rows[0].day, "2024-05-01");
  EXPECT_EQ(rows[0].requests, 3);
  EXPECT_EQ(rows[0].prompt_tokens, 30);
  EXPECT_EQ(rows[0].completion_tokens, 12);
  EXPECT_EQ(rows[0].cached_tokens, 6);
  EXPECT_DOUBLE_EQ(rows[0].cost_usd, 1.5);
  EXPECT_EQ(rows[1].day, "2024-05-02");
  EXPECT_EQ(rows[1].requests, 1);
  EXPECT_EQ(rows[2].key_id, "vk_2");
  EXPECT_EQ(rows[2].requests, 1);
  EXPECT_EQ(recorder.keptRows(), 0u);
  EXPECT_EQ(recorder.lost(), 0u);
}

TEST(UsageRecorderTest, KeptRowsSurviveSeveralFailures) {
  FlakyUsageStore store;
  store.failures = 3;
  UsageRecorder recorder;
  recorder.record(event("vk_1", "m", kMay1));

  for (int i = 0; i < 3; ++i) {
    EXPECT_THROW(recorder.flush(store), StoreError);
  }
  recorder.flush(store);

  ASSERT_EQ(store.written.size(), 1u);
  ASSERT_EQ(store.written[0].size(), 1u);
  EXPECT_EQ(store.written[0][0].requests, 1);  // once, not once per try
}

TEST(UsageRecorderTest, RowsPastTheBoundAreDroppedAndCounted) {
  FlakyUsageStore store;
  store.failures = 1;
  UsageRecorder recorder(/*capacity=*/100, /*max_kept_rows=*/2);
  recorder.record(event("vk_1", "a", kMay1));
  recorder.record(event("vk_1", "b", kMay1));
  recorder.record(event("vk_1", "c", kMay1));
  recorder.record(event("vk_1", "c", kMay1));

  EXPECT_THROW(recorder.flush(store), StoreError);

  EXPECT_EQ(recorder.keptRows(), 2u);
  EXPECT_EQ(recorder.lost(), 2u);  // row "c": two events
  recorder.flush(store);
  ASSERT_EQ(store.written.size(), 1u);
  EXPECT_EQ(store.written[0].size(), 2u);
}

TEST(UsageRecorderTest, NothingRecordedWritesNothing) {
  FlakyUsageStore store;
  UsageRecorder recorder;

  EXPECT_EQ(recorder.flush(store), 0u);
  EXPECT_TRUE(store.written.empty());
}

}  // namespace
}  // namespace portico::keys
