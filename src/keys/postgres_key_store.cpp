#include <iterator>
#include <mutex>
#include <utility>

#include "keys/key_store.hpp"
#include "keys/postgres_connection.hpp"
#include "keys/sqlite_key_store.hpp"
#include "keys/store_columns.hpp"

// The key store in Postgres, for gateways that share their keys. The tables, columns and
// migration steps are SQLite's (sqlite_key_store.cpp), so both stores report the same schema
// version; the types are Postgres' own: BIGINT, DOUBLE PRECISION, BOOLEAN. JSON columns stay
// TEXT, as in SQLite: the store hands back the exact text it was given, nothing queries inside
// it, and JSONB would refuse a "\u0000" that nlohmann accepts.
namespace portico::keys {
namespace {

using nlohmann::json;

// The version a Postgres store migrates to: SQLite's, step for step.
constexpr int kSchemaVersion = kSqliteSchemaVersion;

// Changes reach other gateways through generation(); a poll is one indexed one-row SELECT.
constexpr std::chrono::milliseconds kChangePollInterval{250};

// Held (pg_advisory_xact_lock) by whoever is migrating, so gateways starting together on an
// empty database take turns: the first creates the tables, the others find them made.
constexpr std::int64_t kMigrationLock = 0x706f727469636f;  // "portico"

struct Migration {
  int version;
  const char* sql;  // constant DDL only
};

// Ordered; each step runs in its own transaction. Append, never edit a released step, and
// keep the numbers in step with SQLite's. Ids, days and models sort byte by byte (COLLATE "C")
// as SQLite sorts them, whatever the database's locale.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  sealed_secrets TEXT NOT NULL,
  master_key_id TEXT NOT NULL,
  fields TEXT NOT NULL,
  custom_host TEXT NOT NULL,
  config TEXT NOT NULL,
  models TEXT NOT NULL,
  rpm BIGINT NOT NULL,
  tpm BIGINT NOT NULL,
  budget_usd DOUBLE PRECISION,
  budget_tokens BIGINT,
  budget_period TEXT NOT NULL CHECK (budget_period IN ('day', 'month', 'total')),
  expires_at BIGINT,
  enabled BOOLEAN NOT NULL,
  metadata TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- SQLite's rowid: keys created in the same second list in the order they were added.
  position BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE TABLE usage (
  key_id TEXT COLLATE "C" NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
  day TEXT COLLATE "C" NOT NULL,
  model TEXT COLLATE "C" NOT NULL,
  requests BIGINT NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  cached_tokens BIGINT NOT NULL DEFAULT 0,
  cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day, model)
);
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (name, value) VALUES ('generation', 0);
)sql"},
};
static_assert(std::size(kMigrations) > 0 &&
                  kMigrations[std::size(kMigrations) - 1].version == kSchemaVersion,
              "the last migration must reach SQLite's schema version");

// Parameters $1..$21 of kInsertKey and kUpdateKey, bound by recordParams().
constexpr const char* kInsertKey = R"sql(
INSERT INTO keys (id, name, provider, key_hash, key_prefix, sealed_secrets, master_key_id, fields,
  custom_host, config, models, rpm, tpm, budget_usd, budget_tokens, budget_period, expires_at,
  enabled, metadata, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
  $20, $21))sql";

constexpr const char* kUpdateKey = R"sql(
UPDATE keys SET name = $2, provider = $3, key_hash = $4, key_prefix = $5, sealed_secrets = $6,
  master_key_id = $7, fields = $8, custom_host = $9, config = $10, models = $11, rpm = $12,
  tpm = $13, budget_usd = $14, budget_tokens = $15, budget_period = $16, expires_at = $17,
  enabled = $18, metadata = $19, created_at = $20, updated_at = $21
WHERE id = $1)sql";

// Columns in the order readRecord() expects.
#define PORTICO_SELECT_KEYS                                                                       \
  "SELECT id, name, provider, key_hash, key_prefix, sealed_secrets, master_key_id, fields, "      \
  "custom_host, config, models, rpm, tpm, budget_usd, budget_tokens, budget_period, expires_at, " \
  "enabled, metadata, created_at, updated_at FROM keys"

constexpr const char* kSelectKeyById = PORTICO_SELECT_KEYS " WHERE id = $1";
constexpr const char* kSelectKeyByName = PORTICO_SELECT_KEYS " WHERE name = $1";
constexpr const char* kSelectAllKeys = PORTICO_SELECT_KEYS " ORDER BY created_at, position";
#undef PORTICO_SELECT_KEYS

// The row lock this takes also orders concurrent writers: every change gets its own number.
constexpr const char* kBumpGeneration =
    "UPDATE meta SET value = value + 1 WHERE name = 'generation'";
constexpr const char* kSelectGeneration = "SELECT value FROM meta WHERE name = 'generation'";

constexpr const char* kSelectSchemaVersion = "SELECT value FROM meta WHERE name = 'schema_version'";
constexpr const char* kSetSchemaVersion = R"sql(
INSERT INTO meta (name, value) VALUES ('schema_version', $1)
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value)sql";
constexpr const char* kMetaExists = "SELECT to_regclass('meta') IS NOT NULL";
constexpr const char* kCountOurTableNames = R"sql(
SELECT count(*) FROM unnest(ARRAY['keys', 'usage', 'meta']) AS t (name)
WHERE to_regclass(t.name) IS NOT NULL)sql";

// A row of an unknown key is skipped.
constexpr const char* kUpsertUsage = R"sql(
INSERT INTO usage (key_id, day, model, requests, prompt_tokens, completion_tokens, cached_tokens,
  cost_usd)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM keys WHERE id = $1)
ON CONFLICT (key_id, day, model) DO UPDATE SET
  requests = usage.requests + EXCLUDED.requests,
  prompt_tokens = usage.prompt_tokens + EXCLUDED.prompt_tokens,
  completion_tokens = usage.completion_tokens + EXCLUDED.completion_tokens,
  cached_tokens = usage.cached_tokens + EXCLUDED.cached_tokens,
  cost_usd = usage.cost_usd + EXCLUDED.cost_usd)sql";

constexpr const char* kSelectUsage = R"sql(
SELECT key_id, day, model, requests, prompt_tokens, completion_tokens, cached_tokens, cost_usd
FROM usage
WHERE ($1 = '' OR key_id = $1) AND ($2 = '' OR day >= $2) AND ($3 = '' OR day <= $3)
ORDER BY key_id, day, model)sql";

using store_columns::jsonText;
using store_columns::parseJson;
using store_columns::parseModels;
using store_columns::parsePeriod;

pg::Params recordParams(const KeyRecord& r) {
  pg::Params params;
  params.text(r.id)
      .text(r.name)
      .text(r.provider)
      .text(r.key_hash)
      .text(r.key_prefix)
      .text(r.secrets.sealed)
      .text(r.secrets.master_key_id)
      .text(jsonText(r.fields, "fields"))
      .text(r.custom_host)
      .text(jsonText(r.config, "config"))
      .text(jsonText(json(r.models), "models"))
      .integer(r.rpm)
      .integer(r.tpm)
      .optional(r.budget.usd)
      .optional(r.budget.tokens)
      .text(periodName(r.budget.period))
      .optional(r.expires_at)
      .boolean(r.enabled)
      .text(jsonText(r.metadata, "metadata"))
      .integer(r.created_at)
      .integer(r.updated_at);
  return params;
}

KeyRecord readRecord(const pg::Result& rows, int i) {
  KeyRecord r;
  r.id = rows.text(i, 0);
  r.name = rows.text(i, 1);
  r.provider = rows.text(i, 2);
  r.key_hash = rows.text(i, 3);
  r.key_prefix = rows.text(i, 4);
  r.secrets.sealed = rows.text(i, 5);
  r.secrets.master_key_id = rows.text(i, 6);
  r.fields = parseJson(rows.text(i, 7), "fields");
  r.custom_host = rows.text(i, 8);
  r.config = parseJson(rows.text(i, 9), "config");
  r.models = parseModels(rows.text(i, 10));
  r.rpm = rows.integer(i, 11);
  r.tpm = rows.integer(i, 12);
  if (!rows.isNull(i, 13)) r.budget.usd = rows.real(i, 13);
  if (!rows.isNull(i, 14)) r.budget.tokens = rows.integer(i, 14);
  r.budget.period = parsePeriod(rows.text(i, 15));
  if (!rows.isNull(i, 16)) r.expires_at = rows.integer(i, 16);
  r.enabled = rows.boolean(i, 17);
  r.metadata = parseJson(rows.text(i, 18), "metadata");
  r.created_at = rows.integer(i, 19);
  r.updated_at = rows.integer(i, 20);
  return r;
}

// Bytes of the valid UTF-8 sequence `text` starts with; 0 for none (a NUL counts as none:
// Postgres text cannot hold it).
std::size_t utf8SequenceLength(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead == 0) return 0;
  if (lead < 0x80) return 1;
  // By the lead byte: the sequence's length, the lead's payload bits, the least code point
  // that needs this many bytes (a smaller one is an overlong spelling).
  struct Shape {
    unsigned char mask, bits;
    std::size_t length;
    char32_t least;
  };
  constexpr Shape kShapes[] = {
      {0xE0, 0xC0, 2, 0x80}, {0xF0, 0xE0, 3, 0x800}, {0xF8, 0xF0, 4, 0x10000}};
  for (const Shape& shape : kShapes) {
    if ((lead & shape.mask) != shape.bits) continue;
    if (text.size() < shape.length) return 0;
    char32_t code = lead & static_cast<unsigned char>(~shape.mask);
    for (std::size_t i = 1; i < shape.length; ++i) {
      const auto next = static_cast<unsigned char>(text[i]);
      if ((next & 0xC0) != 0x80) return 0;
      code = (code << 6) | (next & 0x3F);
    }
    const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
    return code < shape.least || code > 0x10FFFF || surrogate ? 0 : shape.length;
  }
  return 0;
}

// Usage text Postgres can hold: a NUL or an invalid byte becomes U+FFFD. A model name comes
// from an upstream's answer, and one the server refused would fail every later usage write.
std::string storableText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t length = utf8SequenceLength(text);
    out += length == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(0, length);
    text.remove_prefix(length == 0 ? 1 : length);
  }
  return out;
}

// After a failed insert or update: a uniqueness clash becomes DuplicateKeyError.
[[noreturn]] void failWrite(const pg::Error& e, const KeyRecord& record) {
  if (e.sqlstate() == pg::kUniqueViolation) {
    if (e.constraint() == "keys_name_key") {
      throw DuplicateKeyError("the name '" + record.name + "' is taken");
    }
    if (e.constraint() == "keys_key_hash_key") {
      throw DuplicateKeyError("another key has the same key hash");
    }
    if (e.constraint() == "keys_pkey") {
      throw DuplicateKeyError("a key with id '" + record.id + "' exists");
    }
  }
  throw;  // called from the handler of `e`: rethrows it
}

int schemaVersionOf(pg::Connection& conn) {
  if (!conn.exec(kMetaExists).boolean(0, 0)) return 0;
  const pg::Result version = conn.exec(kSelectSchemaVersion);
  if (version.rows() == 0) {
    throw StoreError("key store: the database at " + conn.where() +
                     " has a table named meta that is not Portico's");
  }
  return static_cast<int>(version.integer(0, 0));
}

void checkKnownVersion(int version, const pg::Connection& conn) {
  if (version > kSchemaVersion) {
    throw StoreError("key store: postgres at " + conn.where() + " is at schema version " +
                     std::to_string(version) + ", newer than this Portico knows (" +
                     std::to_string(kSchemaVersion) + "): upgrade Portico");
  }
}

// Other applications may share the database, but not our table names.
void checkForeignTables(pg::Connection& conn) {
  if (conn.exec(kCountOurTableNames).integer(0, 0) > 0) {
    throw StoreError("key store: the database at " + conn.where() +
                     " has tables named keys, usage or meta that are not Portico's");
  }
}

// The version is read under the lock, inside each step's transaction: another gateway may
// have just migrated.
void migrate(pg::Connection& conn) {
  for (const Migration& step : kMigrations) {
    pg::Transaction tx(conn);
    conn.exec("SELECT pg_advisory_xact_lock($1)", pg::Params().integer(kMigrationLock));
    const int version = schemaVersionOf(conn);
    checkKnownVersion(version, conn);
    if (version >= step.version) {
      continue;  // the transaction rolls back, releasing the lock: nothing was written
    }
    if (version == 0) {
      checkForeignTables(conn);
    }
    conn.execScript(step.sql);
    conn.exec(kSetSchemaVersion, pg::Params().integer(step.version));
    tx.commit();
  }
}

class PostgresKeyStore final : public KeyStore {
 public:
  explicit PostgresKeyStore(std::unique_ptr<pg::Connection> conn) : conn_(std::move(conn)) {}

  void insert(const KeyRecord& record) override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    pg::Transaction tx(*conn_);
    try {
      conn_->exec(kInsertKey, recordParams(record));
    } catch (const pg::Error& e) {
      failWrite(e, record);
    }
    conn_->exec(kBumpGeneration);
    tx.commit();
  }

  bool update(const KeyRecord& record) override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    pg::Transaction tx(*conn_);
    std::int64_t changed = 0;
    try {
      changed = conn_->exec(kUpdateKey, recordParams(record)).affected();
    } catch (const pg::Error& e) {
      failWrite(e, record);
    }
    if (changed == 0) return false;
    conn_->exec(kBumpGeneration);
    tx.commit();
    return true;
  }

  bool remove(std::string_view id) override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    pg::Transaction tx(*conn_);
    // Explicit, as in SQLite, rather than left to ON DELETE CASCADE alone.
    conn_->exec("DELETE FROM usage WHERE key_id = $1", pg::Params().text(id));
    if (conn_->exec("DELETE FROM keys WHERE id = $1", pg::Params().text(id)).affected() == 0) {
      return false;
    }
    conn_->exec(kBumpGeneration);
    tx.commit();
    return true;
  }

  std::optional<KeyRecord> find(std::string_view id) const override {
    return findOne(kSelectKeyById, id);
  }

  std::optional<KeyRecord> findByName(std::string_view name) const override {
    return findOne(kSelectKeyByName, name);
  }

  std::vector<KeyRecord> all() const override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    const pg::Result rows = conn_->read(kSelectAllKeys);
    std::vector<KeyRecord> records;
    records.reserve(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) records.push_back(readRecord(rows, i));
    return records;
  }

  std::int64_t generation() const override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    const pg::Result row = conn_->read(kSelectGeneration);
    return row.rows() > 0 ? row.integer(0, 0) : 0;
  }

  void addUsage(const std::vector<UsageRow>& rows) override {
    if (rows.empty()) return;
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    // A key removed by another gateway between the EXISTS and the insert fails the foreign
    // key; the second run's EXISTS then skips its rows.
    for (int attempt = 0;; ++attempt) {
      try {
        writeUsage(rows);
        return;
      } catch (const pg::Error& e) {
        if (e.sqlstate() != pg::kForeignKeyViolation || attempt > 0) throw;
      }
    }
  }

  std::vector<UsageRow> usage(std::string_view key_id,
                              std::string_view from_day,
                              std::string_view to_day) const override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    const pg::Result result =
        conn_->read(kSelectUsage, pg::Params().text(key_id).text(from_day).text(to_day));
    std::vector<UsageRow> rows;
    rows.reserve(static_cast<std::size_t>(result.rows()));
    for (int i = 0; i < result.rows(); ++i) {
      rows.push_back(UsageRow{result.text(i, 0), result.text(i, 1), result.text(i, 2),
                              result.integer(i, 3), result.integer(i, 4), result.integer(i, 5),
                              result.integer(i, 6), result.real(i, 7)});
    }
    return rows;
  }

  int schemaVersion() const override {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    const pg::Result row = conn_->read(kSelectSchemaVersion);
    return row.rows() > 0 ? static_cast<int>(row.integer(0, 0)) : 0;
  }

  std::chrono::milliseconds changePollInterval() const override { return kChangePollInterval; }

 private:
  std::optional<KeyRecord> findOne(const char* sql, std::string_view value) const {
    std::lock_guard lock(mutex_);
    conn_->ensureConnected();
    const pg::Result rows = conn_->read(sql, pg::Params().text(value));
    if (rows.rows() == 0) return std::nullopt;
    return readRecord(rows, 0);
  }

  // One transaction: the batch lands whole or not at all, so a caller may retry it.
  void writeUsage(const std::vector<UsageRow>& rows) {
    pg::Transaction tx(*conn_);
    for (const UsageRow& row : rows) {
      conn_->exec(kUpsertUsage, pg::Params()
                                    .text(storableText(row.key_id))
                                    .text(storableText(row.day))
                                    .text(storableText(row.model))
                                    .integer(row.requests)
                                    .integer(row.prompt_tokens)
                                    .integer(row.completion_tokens)
                                    .integer(row.cached_tokens)
                                    .real(row.cost_usd));
    }
    tx.commit();
  }

  mutable std::mutex mutex_;
  std::unique_ptr<pg::Connection> conn_;
};

}  // namespace

std::unique_ptr<KeyStore> openPostgresKeyStore(const std::string& url) {
  auto conn = std::make_unique<pg::Connection>(url);
  migrate(*conn);
  return std::make_unique<PostgresKeyStore>(std::move(conn));
}

}  // namespace portico::keys
