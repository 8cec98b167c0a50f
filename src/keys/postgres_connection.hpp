#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "keys/key_store.hpp"
#include "keys/libpq_library.hpp"

// One libpq connection for the Postgres key store: connecting without leaking the URL,
// statements with bound parameters, results, and the reconnect rule. Not thread-safe: the
// store holds it under its mutex.
namespace portico::keys::pg {

// The parameters of one statement, sent apart from its text: values never become SQL. Text
// goes as raw bytes with its length (binary format), so a NUL or invalid UTF-8 is refused by
// the server instead of cut short at the NUL.
class Params {
 public:
  // The built-in type OIDs (fixed in pg_type.dat; the server headers are not installed).
  static constexpr Oid kBool = 16;
  static constexpr Oid kInt8 = 20;
  static constexpr Oid kText = 25;
  static constexpr Oid kFloat8 = 701;

  Params& text(std::string_view value);
  Params& integer(std::int64_t value);
  Params& real(double value);
  Params& boolean(bool value);
  // A NULL int8 or float8 (the type the optional's would have).
  template <class T>
  Params& optional(const std::optional<T>& value) {
    if constexpr (std::is_same_v<T, double>) {
      return value ? real(*value) : null(kFloat8);
    } else {
      return value ? integer(*value) : null(kInt8);
    }
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // Pointers into this object: valid while it lives unchanged.
  std::vector<const char*> pointers() const;

 private:
  Params& add(Oid type, std::string value, int format, bool is_null = false);
  Params& null(Oid type) { return add(type, "", 0, true); }

  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<Oid> types_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement's result, in text format.
class Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}

  int rows() const { return libpq().ntuples(result_.get()); }
  // Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;
  bool isNull(int row, int column) const {
    return libpq().getisnull(result_.get(), row, column) != 0;
  }
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  double real(int row, int column) const;
  bool boolean(int row, int column) const;

 private:
  struct Clear {
    void operator()(PGresult* result) const { libpq().clear(result); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// A statement the server refused, or a connection that broke under it. The message names the
// server as host:port/db and is scrubbed of the password.
class Error : public StoreError {
 public:
  Error(const std::string& message, std::string sqlstate, std::string constraint, bool lost)
      : StoreError(message),
        sqlstate_(std::move(sqlstate)),
        constraint_(std::move(constraint)),
        lost_(lost) {}

  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& constraint() const { return constraint_; }
  // The connection broke: the statement may or may not have run.
  bool connectionLost() const { return lost_; }

 private:
  std::string sqlstate_;
  std::string constraint_;
  bool lost_;
};

inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kForeignKeyViolation = "23503";

class Connection {
 public:
  // Connects to what `url` names. Throws StoreError (host:port/db only, never the password or
  // the URL) when libpq cannot parse it or the server cannot be reached.
  explicit Connection(const std::string& url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // "host:port/db", for messages.
  const std::string& where() const { return where_; }

  // Reconnects (once) when the connection is known to be bad; throws StoreError when that
  // fails. Called before each store operation, so a write after an outage finds it fresh.
  void ensureConnected();
  // One statement; throws Error.
  Result exec(const char* sql, const Params& params = {});
  // ROLLBACK when the connection still stands, ignoring how it went (a Transaction's undo).
  void rollback() noexcept;
  // A statement that changes nothing (a read, BEGIN): when the connection broke under it,
  // reconnect once and run it once more.
  Result read(const char* sql, const Params& params = {});
  // Constant SQL without parameters, possibly several statements (migration DDL).
  void execScript(const char* sql);
  bool ok() const { return libpq().status(conn_.get()) == CONNECTION_OK; }

 private:
  Result check(PGresult* raw);
  void reconnect();
  // libpq's text with the password cut out and its lines joined.
  std::string scrub(std::string message) const;

  struct Finish {
    void operator()(PGconn* conn) const { libpq().finish(conn); }
  };
  std::unique_ptr<PGconn, Finish> conn_;
  std::string where_;
  std::string password_;  // only to scrub it from messages
};

// Runs BEGIN; rolls back on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Connection& conn);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Connection& conn_;
  bool done_ = false;
};

}  // namespace portico::keys::pg
