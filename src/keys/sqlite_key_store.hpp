#pragma once

// The SQLite store's schema version: what openSqliteKeyStore() migrates a file to. A file at a
// higher version was written by a newer Portico and is refused.
namespace portico::keys {

inline constexpr int kSqliteSchemaVersion = 1;

}  // namespace portico::keys
