#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "keys/virtual_key.hpp"

namespace portico::keys {

// A store that cannot do what was asked (unreadable file, newer schema, duplicate name, ...).
// The message is for operators and never holds a secret.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A key whose name (or id, or hash) another key already has: the admin API answers 409.
class DuplicateKeyError : public StoreError {
 public:
  using StoreError::StoreError;
};

// Where virtual keys and their usage live: SQLite (one file, one host) or Postgres (shared by
// every gateway of a deployment). Every method is safe to call from several threads; none is
// called on a proxied request's path (the gateway reads a snapshot in memory).
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Adds a key; throws StoreError when its id, name or hash exists.
  virtual void insert(const KeyRecord& record) = 0;
  // Replaces the key with record.id; false when there is none. Throws on a duplicate name.
  virtual bool update(const KeyRecord& record) = 0;
  // Deletes a key and its usage; false when there was none.
  virtual bool remove(std::string_view id) = 0;
  virtual std::optional<KeyRecord> find(std::string_view id) const = 0;
  virtual std::optional<KeyRecord> findByName(std::string_view name) const = 0;
  // Every key, ordered by creation.
  virtual std::vector<KeyRecord> all() const = 0;
  // Grows whenever a key is inserted, updated or removed, by this process or another one
  // working on the same store (the CLI while the gateway runs): a cheap change check.
  virtual std::int64_t generation() const = 0;

  // Adds each row to the (key_id, day, model) totals. Rows of a key that no longer exists (removed
  // while its usage was in flight) are dropped.
  virtual void addUsage(const std::vector<UsageRow>& rows) = 0;
  // Usage rows of one key ("" : every key) with from_day <= day <= to_day ("" : unbounded),
  // ordered by key, day and model.
  virtual std::vector<UsageRow> usage(std::string_view key_id,
                                      std::string_view from_day,
                                      std::string_view to_day) const = 0;

  // The schema version the store is at (after migrations).
  virtual int schemaVersion() const = 0;

  // How often the keeper asks generation() whether another process changed a key: the bound
  // on how late a change made elsewhere reaches this gateway.
  virtual std::chrono::milliseconds changePollInterval() const { return std::chrono::seconds(1); }
};

// Opens (creating the directory and the file when missing) `data_dir`/portico.db and applies
// the schema migrations it lacks, in one transaction each. Throws StoreError when the file is
// not a Portico store or was written by a newer schema.
std::unique_ptr<KeyStore> openSqliteKeyStore(const std::filesystem::path& data_dir);

// Connects to the database a "postgres://" or "postgresql://" URL names (libpq parses it:
// user, password, host, port, database, sslmode, ...; connect_timeout is 5 s unless the URL
// sets one) and applies the schema migrations it lacks, the same steps as SQLite's, one
// transaction each, serialised across processes. Throws StoreError when the server cannot be
// reached or the database holds a newer schema; no message holds the password or the URL.
std::unique_ptr<KeyStore> openPostgresKeyStore(const std::string& url);

// The store `store` names: "" or "sqlite": openSqliteKeyStore(data_dir); a postgres:// or
// postgresql:// URL: openPostgresKeyStore(store). Anything else throws StoreError.
std::unique_ptr<KeyStore> openKeyStore(const std::string& store,
                                       const std::filesystem::path& data_dir);

}  // namespace portico::keys
