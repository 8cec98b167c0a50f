#include "keys/sqlite_key_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <mutex>
#include <system_error>
#include <utility>

#include "keys/key_store.hpp"
#include "keys/store_columns.hpp"

namespace portico::keys {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFileName = "portico.db";
// The CLI and a running gateway share the file: a writer waits this long for the other's lock.
constexpr int kBusyTimeoutMs = 5000;

struct Migration {
  int version;
  const char* sql;  // constant DDL only
};

// Ordered; each step runs in its own transaction. Append, never edit a released step.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE keys (
  id TEXT PRIMARY KEY NOT NULL,
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
  rpm INTEGER NOT NULL,
  tpm INTEGER NOT NULL,
  budget_usd REAL,
  budget_tokens INTEGER,
  budget_period TEXT NOT NULL CHECK (budget_period IN ('day', 'month', 'total')),
  expires_at INTEGER,
  enabled INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE usage (
  key_id TEXT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  model TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day, model)
) WITHOUT ROWID;
CREATE TABLE meta (
  name TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
);
INSERT INTO meta (name, value) VALUES ('generation', 0);
)sql"},
};
static_assert(std::size(kMigrations) > 0 &&
                  kMigrations[std::size(kMigrations) - 1].version == kSqliteSchemaVersion,
              "the last migration must reach kSqliteSchemaVersion");

// Parameters ?1..?21 of kInsertKey and kUpdateKey, bound by bindRecord().
constexpr const char* kInsertKey = R"sql(
INSERT INTO keys (id, name, provider, key_hash, key_prefix, sealed_secrets, master_key_id, fields,
  custom_host, config, models, rpm, tpm, budget_usd, budget_tokens, budget_period, expires_at,
  enabled, metadata, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
  ?20, ?21))sql";

constexpr const char* kUpdateKey = R"sql(
UPDATE keys SET name = ?2, provider = ?3, key_hash = ?4, key_prefix = ?5, sealed_secrets = ?6,
  master_key_id = ?7, fields = ?8, custom_host = ?9, config = ?10, models = ?11, rpm = ?12,
  tpm = ?13, budget_usd = ?14, budget_tokens = ?15, budget_period = ?16, expires_at = ?17,
  enabled = ?18, metadata = ?19, created_at = ?20, updated_at = ?21
WHERE id = ?1)sql";

// Columns in the order readRecord() expects; rowid breaks ties between equal created_at.
#define PORTICO_SELECT_KEYS                                                                       \
  "SELECT id, name, provider, key_hash, key_prefix, sealed_secrets, master_key_id, fields, "      \
  "custom_host, config, models, rpm, tpm, budget_usd, budget_tokens, budget_period, expires_at, " \
  "enabled, metadata, created_at, updated_at FROM keys"

constexpr const char* kSelectKeyById = PORTICO_SELECT_KEYS " WHERE id = ?1";
constexpr const char* kSelectKeyByName = PORTICO_SELECT_KEYS " WHERE name = ?1";
constexpr const char* kSelectAllKeys = PORTICO_SELECT_KEYS " ORDER BY created_at, rowid";
#undef PORTICO_SELECT_KEYS

constexpr const char* kBumpGeneration =
    "UPDATE meta SET value = value + 1 WHERE name = 'generation'";
constexpr const char* kSelectGeneration = "SELECT value FROM meta WHERE name = 'generation'";

// A row of an unknown key is skipped (the WHERE also keeps the upsert clause unambiguous).
constexpr const char* kUpsertUsage = R"sql(
INSERT INTO usage (key_id, day, model, requests, prompt_tokens, completion_tokens, cached_tokens,
  cost_usd)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM keys WHERE id = ?1)
ON CONFLICT (key_id, day, model) DO UPDATE SET
  requests = requests + excluded.requests,
  prompt_tokens = prompt_tokens + excluded.prompt_tokens,
  completion_tokens = completion_tokens + excluded.completion_tokens,
  cached_tokens = cached_tokens + excluded.cached_tokens,
  cost_usd = cost_usd + excluded.cost_usd)sql";

constexpr const char* kSelectUsage = R"sql(
SELECT key_id, day, model, requests, prompt_tokens, completion_tokens, cached_tokens, cost_usd
FROM usage
WHERE (?1 = '' OR key_id = ?1) AND (?2 = '' OR day >= ?2) AND (?3 = '' OR day <= ?3)
ORDER BY key_id, day, model)sql";

// SQLite's messages name tables and columns, never bound values, so they hold no secret.
[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw StoreError("key store: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

// Constant SQL only (DDL, pragmas, transaction control).
void exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    fail(db, what);
  }
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      fail(db, "preparing a statement");
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
  }
  void bind(int index, std::int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind(int index, double value) { check(sqlite3_bind_double(stmt_, index, value)); }
  template <class T>
  void bind(int index, const std::optional<T>& value) {
    if (value) {
      bind(index, *value);
    } else {
      check(sqlite3_bind_null(stmt_, index));
    }
  }

  // SQLITE_ROW or SQLITE_DONE; any other code is left to the caller (see step()).
  int stepRaw() { return sqlite3_step(stmt_); }
  // True while there is a row.
  bool step() {
    const int rc = stepRaw();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      fail(db_, "running a statement");
    }
    return rc == SQLITE_ROW;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) {
      fail(db_, "binding a parameter");
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock up front, so a concurrent writer waits (busy_timeout)
// instead of failing on a read-to-write upgrade. Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec(db, "BEGIN IMMEDIATE", "starting a write"); }
  ~Transaction() {
    if (!done_) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    exec(db_, "COMMIT", "committing");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

using store_columns::jsonText;
using store_columns::parseJson;
using store_columns::parseModels;
using store_columns::parsePeriod;

void bindRecord(Statement& stmt, const KeyRecord& r) {
  stmt.bind(1, r.id);
  stmt.bind(2, r.name);
  stmt.bind(3, r.provider);
  stmt.bind(4, r.key_hash);
  stmt.bind(5, r.key_prefix);
  stmt.bind(6, r.secrets.sealed);
  stmt.bind(7, r.secrets.master_key_id);
  stmt.bind(8, jsonText(r.fields, "fields"));
  stmt.bind(9, r.custom_host);
  stmt.bind(10, jsonText(r.config, "config"));
  stmt.bind(11, jsonText(json(r.models), "models"));
  stmt.bind(12, r.rpm);
  stmt.bind(13, r.tpm);
  stmt.bind(14, r.budget.usd);
  stmt.bind(15, r.budget.tokens);
  stmt.bind(16, std::string_view(periodName(r.budget.period)));
  stmt.bind(17, r.expires_at);
  stmt.bind(18, std::int64_t{r.enabled ? 1 : 0});
  stmt.bind(19, jsonText(r.metadata, "metadata"));
  stmt.bind(20, r.created_at);
  stmt.bind(21, r.updated_at);
}

KeyRecord readRecord(const Statement& row) {
  KeyRecord r;
  r.id = row.text(0);
  r.name = row.text(1);
  r.provider = row.text(2);
  r.key_hash = row.text(3);
  r.key_prefix = row.text(4);
  r.secrets.sealed = row.text(5);
  r.secrets.master_key_id = row.text(6);
  r.fields = parseJson(row.text(7), "fields");
  r.custom_host = row.text(8);
  r.config = parseJson(row.text(9), "config");
  r.models = parseModels(row.text(10));
  r.rpm = row.integer(11);
  r.tpm = row.integer(12);
  if (!row.isNull(13)) r.budget.usd = row.real(13);
  if (!row.isNull(14)) r.budget.tokens = row.integer(14);
  r.budget.period = parsePeriod(row.text(15));
  if (!row.isNull(16)) r.expires_at = row.integer(16);
  r.enabled = row.integer(17) != 0;
  r.metadata = parseJson(row.text(18), "metadata");
  r.created_at = row.integer(19);
  r.updated_at = row.integer(20);
  return r;
}

// After a failed insert or update: a uniqueness clash becomes DuplicateKeyError.
[[noreturn]] void failWrite(sqlite3* db, const KeyRecord& record) {
  const int code = sqlite3_extended_errcode(db);
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    const std::string message = sqlite3_errmsg(db);
    if (message.find("keys.name") != std::string::npos) {
      throw DuplicateKeyError("the name '" + record.name + "' is taken");
    }
    if (message.find("keys.key_hash") != std::string::npos) {
      throw DuplicateKeyError("another key has the same key hash");
    }
    if (message.find("keys.id") != std::string::npos) {
      throw DuplicateKeyError("a key with id '" + record.id + "' exists");
    }
  }
  fail(db, "writing key '" + record.id + "'");
}

int userVersion(sqlite3* db) {
  Statement stmt(db, "PRAGMA user_version");
  return stmt.step() ? static_cast<int>(stmt.integer(0)) : 0;
}

void checkKnownVersion(int version, const fs::path& file) {
  if (version > kSqliteSchemaVersion) {
    throw StoreError("key store " + file.string() + " is at schema version " +
                     std::to_string(version) + ", newer than this Portico knows (" +
                     std::to_string(kSqliteSchemaVersion) + "): upgrade Portico");
  }
}

// A version-0 file with tables of its own is some other application's database.
void checkForeignTables(sqlite3* db, const fs::path& file) {
  Statement stmt(db, "SELECT count(*) FROM sqlite_master");
  if (stmt.step() && stmt.integer(0) > 0) {
    throw StoreError("key store: " + file.string() + " is an SQLite database but not Portico's");
  }
}

// Version is re-read inside each transaction: another process may be migrating the same file.
void migrate(sqlite3* db, const fs::path& file) {
  checkKnownVersion(userVersion(db), file);
  for (const Migration& step : kMigrations) {
    Transaction tx(db);
    const int version = userVersion(db);
    checkKnownVersion(version, file);
    if (version >= step.version) {
      continue;  // the transaction rolls back: nothing was written
    }
    if (version == 0) {
      checkForeignTables(db, file);
    }
    exec(db, step.sql, "migrating to schema " + std::to_string(step.version));
    // PRAGMA takes no bound parameters; the number comes from the table above.
    const std::string set_version = "PRAGMA user_version = " + std::to_string(step.version);
    exec(db, set_version.c_str(), "recording the schema version");
    tx.commit();
  }
}

// SQLite would create the file 0644 under the usual umask; it copies the file's mode to the
// -wal and -shm files, so creating it 0600 first keeps those private too.
void createPrivateFile(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw StoreError("key store: cannot create " + file.string() + ": " + std::strerror(errno));
  }
  ::fchmod(fd, 0600);  // the umask may have taken bits; 0600 is what we want either way
  ::close(fd);
}

void createPrivateDirectory(const fs::path& dir) {
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (ec) {
    throw StoreError("key store: cannot create directory " + dir.string() + ": " + ec.message());
  }
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Db openDatabase(const fs::path& file) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    throw StoreError("key store: cannot open " + file.string() + ": " +
                     (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // The first statement to read the file: a non-SQLite file fails here.
  if (sqlite3_exec(db.get(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    if (sqlite3_errcode(db.get()) == SQLITE_NOTADB) {
      throw StoreError("key store: " + file.string() + " is not an SQLite database");
    }
    fail(db.get(), "opening " + file.string());
  }
  exec(db.get(), "PRAGMA foreign_keys = ON", "enabling foreign keys");
  return db;
}

class SqliteKeyStore final : public KeyStore {
 public:
  explicit SqliteKeyStore(Db db) : db_(std::move(db)) {}

  void insert(const KeyRecord& record) override {
    std::lock_guard lock(mutex_);
    Transaction tx(db_.get());
    Statement stmt(db_.get(), kInsertKey);
    bindRecord(stmt, record);
    if (stmt.stepRaw() != SQLITE_DONE) failWrite(db_.get(), record);
    bumpGeneration();
    tx.commit();
  }

  bool update(const KeyRecord& record) override {
    std::lock_guard lock(mutex_);
    Transaction tx(db_.get());
    Statement stmt(db_.get(), kUpdateKey);
    bindRecord(stmt, record);
    if (stmt.stepRaw() != SQLITE_DONE) failWrite(db_.get(), record);
    if (sqlite3_changes(db_.get()) == 0) return false;
    bumpGeneration();
    tx.commit();
    return true;
  }

  bool remove(std::string_view id) override {
    std::lock_guard lock(mutex_);
    Transaction tx(db_.get());
    // Explicit, not left to ON DELETE CASCADE alone: a connection without foreign_keys on
    // (the sqlite3 shell) would otherwise leave usage behind.
    Statement usage(db_.get(), "DELETE FROM usage WHERE key_id = ?1");
    usage.bind(1, id);
    usage.step();
    Statement key(db_.get(), "DELETE FROM keys WHERE id = ?1");
    key.bind(1, id);
    key.step();
    if (sqlite3_changes(db_.get()) == 0) return false;
    bumpGeneration();
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
    Statement stmt(db_.get(), kSelectAllKeys);
    std::vector<KeyRecord> records;
    while (stmt.step()) records.push_back(readRecord(stmt));
    return records;
  }

  std::int64_t generation() const override {
    std::lock_guard lock(mutex_);
    Statement stmt(db_.get(), kSelectGeneration);
    return stmt.step() ? stmt.integer(0) : 0;
  }

  void addUsage(const std::vector<UsageRow>& rows) override {
    if (rows.empty()) return;
    std::lock_guard lock(mutex_);
    Transaction tx(db_.get());
    Statement stmt(db_.get(), kUpsertUsage);
    for (const UsageRow& row : rows) {
      stmt.bind(1, row.key_id);
      stmt.bind(2, row.day);
      stmt.bind(3, row.model);
      stmt.bind(4, row.requests);
      stmt.bind(5, row.prompt_tokens);
      stmt.bind(6, row.completion_tokens);
      stmt.bind(7, row.cached_tokens);
      stmt.bind(8, row.cost_usd);
      stmt.step();
      stmt.reset();
    }
    tx.commit();
  }

  std::vector<UsageRow> usage(std::string_view key_id,
                              std::string_view from_day,
                              std::string_view to_day) const override {
    std::lock_guard lock(mutex_);
    Statement stmt(db_.get(), kSelectUsage);
    stmt.bind(1, key_id);
    stmt.bind(2, from_day);
    stmt.bind(3, to_day);
    std::vector<UsageRow> rows;
    while (stmt.step()) {
      rows.push_back(UsageRow{stmt.text(0), stmt.text(1), stmt.text(2), stmt.integer(3),
                              stmt.integer(4), stmt.integer(5), stmt.integer(6), stmt.real(7)});
    }
    return rows;
  }

  int schemaVersion() const override {
    std::lock_guard lock(mutex_);
    return userVersion(db_.get());
  }

 private:
  std::optional<KeyRecord> findOne(const char* sql, std::string_view value) const {
    std::lock_guard lock(mutex_);
    Statement stmt(db_.get(), sql);
    stmt.bind(1, value);
    if (!stmt.step()) return std::nullopt;
    return readRecord(stmt);
  }

  void bumpGeneration() {
    Statement stmt(db_.get(), kBumpGeneration);
    stmt.step();
  }

  mutable std::mutex mutex_;
  Db db_;
};

}  // namespace

std::unique_ptr<KeyStore> openSqliteKeyStore(const std::filesystem::path& data_dir) {
  createPrivateDirectory(data_dir);
  const fs::path file = data_dir / kFileName;
  createPrivateFile(file);
  Db db = openDatabase(file);
  migrate(db.get(), file);
  return std::make_unique<SqliteKeyStore>(std::move(db));
}

}  // namespace portico::keys
