#include "keys/postgres_connection.hpp"

#include <charconv>
#include <system_error>

namespace portico::keys::pg {
namespace {

// Applied unless the URL says otherwise: a dead host fails the start-up in seconds, not in
// the kernel's minutes; a server that hangs ends a statement after 10 s instead of holding the
// keeper thread and the admin API; text is UTF-8 both ways; operators see who holds the
// connections.
constexpr const char* kDefaultKeywords[] = {"connect_timeout", "options", "client_encoding",
                                            "application_name"};
constexpr const char* kDefaultValues[] = {"5", "-c statement_timeout=10000", "UTF8", "portico"};

struct ConninfoFree {
  void operator()(PQconninfoOption* options) const { libpq().conninfoFree(options); }
};

[[noreturn]] void malformedNumber() {
  throw StoreError("key store: postgres returned a malformed number");
}

}  // namespace

// ---- Params ------------------------------------------------------------------------------

Params& Params::add(Oid type, std::string value, int format, bool is_null) {
  lengths_.push_back(static_cast<int>(value.size()));
  values_.push_back(std::move(value));
  nulls_.push_back(is_null);
  types_.push_back(type);
  formats_.push_back(format);
  return *this;
}

// Binary text is the bytes themselves, so no escaping and no strlen().
Params& Params::text(std::string_view value) { return add(kText, std::string(value), 1); }

Params& Params::integer(std::int64_t value) { return add(kInt8, std::to_string(value), 0); }

// The shortest text that reads back as the same double.
Params& Params::real(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return add(kFloat8, std::string(buffer, ec == std::errc() ? end : buffer), 0);
}

Params& Params::boolean(bool value) { return add(kBool, value ? "true" : "false", 0); }

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    out.push_back(nulls_[i] ? nullptr : values_[i].data());
  }
  return out;
}

// ---- Result ------------------------------------------------------------------------------

std::int64_t Result::affected() const {
  const std::string_view count = libpq().cmdTuples(result_.get());
  std::int64_t value = 0;
  std::from_chars(count.data(), count.data() + count.size(), value);
  return value;
}

std::string Result::text(int row, int column) const {
  return std::string(libpq().getvalue(result_.get(), row, column),
                     static_cast<std::size_t>(libpq().getlength(result_.get(), row, column)));
}

std::int64_t Result::integer(int row, int column) const {
  const char* data = libpq().getvalue(result_.get(), row, column);
  const char* end = data + libpq().getlength(result_.get(), row, column);
  std::int64_t value = 0;
  const auto [stop, ec] = std::from_chars(data, end, value);
  if (ec != std::errc() || stop != end) malformedNumber();
  return value;
}

double Result::real(int row, int column) const {
  const char* data = libpq().getvalue(result_.get(), row, column);
  const char* end = data + libpq().getlength(result_.get(), row, column);
  double value = 0;
  const auto [stop, ec] = std::from_chars(data, end, value);
  if (ec != std::errc() || stop != end) malformedNumber();
  return value;
}

bool Result::boolean(int row, int column) const {
  return libpq().getvalue(result_.get(), row, column)[0] == 't';
}

// ---- Connection --------------------------------------------------------------------------

Connection::Connection(const std::string& url) {
  // Parsed first for the names messages may show. libpq's own parse error can quote the URL
  // (a bad percent-escape in the password), so it is not passed on.
  char* parse_error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoFree> options(
      libpq().conninfoParse(url.c_str(), &parse_error));
  if (!options) {
    libpq().freemem(parse_error);
    throw StoreError("key store: the postgres URL is malformed (libpq cannot parse it)");
  }
  std::string host = "localhost";
  std::string port = "5432";
  std::string db;
  std::string user;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val == nullptr || *option->val == '\0') continue;
    const std::string_view keyword = option->keyword;
    if (keyword == "host") host = option->val;
    if (keyword == "port") port = option->val;
    if (keyword == "dbname") db = option->val;
    if (keyword == "user") user = option->val;
    if (keyword == "password") password_ = option->val;
  }
  where_ = host + ":" + port + "/" + (!db.empty() ? db : !user.empty() ? user : "(default)");

  // Keywords are applied in order and the URL (expanded from "dbname") comes last, so what
  // it sets wins over the defaults.
  std::vector<const char*> keywords(std::begin(kDefaultKeywords), std::end(kDefaultKeywords));
  std::vector<const char*> values(std::begin(kDefaultValues), std::end(kDefaultValues));
  keywords.insert(keywords.end(), {"dbname", nullptr});
  values.insert(values.end(), {url.c_str(), nullptr});
  conn_.reset(libpq().connectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!conn_) {
    throw StoreError("key store: out of memory connecting to postgres at " + where_);
  }
  if (!ok()) {
    throw StoreError("key store: cannot connect to postgres at " + where_ + ": " +
                     scrub(libpq().errorMessage(conn_.get())));
  }
}

void Connection::ensureConnected() {
  if (!ok()) reconnect();
}

void Connection::reconnect() {
  libpq().reset(conn_.get());
  if (!ok()) {
    throw StoreError("key store: postgres at " + where_ +
                     " is unreachable: " + scrub(libpq().errorMessage(conn_.get())));
  }
}

Result Connection::exec(const char* sql, const Params& params) {
  const std::vector<const char*> values = params.pointers();
  return check(libpq().execParams(conn_.get(), sql, params.size(), params.types(), values.data(),
                                  params.lengths(), params.formats(), /*resultFormat=*/0));
}

Result Connection::read(const char* sql, const Params& params) {
  try {
    return exec(sql, params);
  } catch (const Error& e) {
    if (!e.connectionLost()) throw;
  }
  reconnect();
  return exec(sql, params);
}

void Connection::execScript(const char* sql) { check(libpq().exec(conn_.get(), sql)); }

void Connection::rollback() noexcept {
  if (ok()) libpq().clear(libpq().exec(conn_.get(), "ROLLBACK"));
}

Result Connection::check(PGresult* raw) {
  Result result(raw);
  const ExecStatusType status = raw != nullptr ? libpq().resultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  auto field = [raw](int code) {
    const char* value = raw != nullptr ? libpq().resultErrorField(raw, code) : nullptr;
    return std::string(value != nullptr ? value : "");
  };
  // The primary message only: the DETAIL line of a unique violation quotes the row's values.
  std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = libpq().errorMessage(conn_.get());
  const bool lost = !ok();
  message = lost ? "lost the connection to postgres at " + where_ + ": " + scrub(message)
                 : "postgres at " + where_ + ": " + scrub(message);
  throw Error("key store: " + message, field(PG_DIAG_SQLSTATE), field(PG_DIAG_CONSTRAINT_NAME),
              lost);
}

std::string Connection::scrub(std::string message) const {
  if (!password_.empty()) {
    constexpr std::string_view kMask = "***";
    for (auto at = message.find(password_); at != std::string::npos;
         at = message.find(password_, at + kMask.size())) {
      message.replace(at, password_.size(), kMask);
    }
  }
  std::string out;
  for (const char c : message) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// ---- Transaction -------------------------------------------------------------------------

// BEGIN changes nothing, so it is retried like a read: the first write after a server restart
// goes through instead of failing on the dead connection.
Transaction::Transaction(Connection& conn) : conn_(conn) { conn_.read("BEGIN"); }

Transaction::~Transaction() {
  if (!done_) conn_.rollback();
}

// Whatever COMMIT answers, the transaction is over: no ROLLBACK after it.
void Transaction::commit() {
  done_ = true;
  conn_.exec("COMMIT");
}

}  // namespace portico::keys::pg
