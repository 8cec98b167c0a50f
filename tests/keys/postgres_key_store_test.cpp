// What only the Postgres store does, against a throwaway server (skipped when PostgreSQL is not
// installed): migrations raced by three stores, refusals, surviving a server restart, error
// messages that never show the password, connect timeouts, text Postgres cannot hold, the
// keeper's faster poll, usage kept through an outage, and the CLI's --store.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <barrier>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "keys/key_index.hpp"
#include "keys/key_keeper.hpp"
#include "keys/key_store.hpp"
#include "keys/key_store_samples.hpp"
#include "keys/keys_cli.hpp"
#include "keys/sqlite_key_store.hpp"
#include "keys/usage_recorder.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

using namespace std::chrono_literals;
using samples::fullRecord;
using samples::usageRow;

constexpr const char* kPassword = "hunter2-not-in-messages";

// Constant SQL on a database behind the store's back, as `portico`.
void rawExec(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  ASSERT_EQ(PQresultStatus(result.get()), PGRES_COMMAND_OK) << PQerrorMessage(conn.get());
}

// A loopback listener that completes TCP handshakes and never says a word: a hung server.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), size);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port nothing listens on: bound, then closed.
int closedPort() {
  SilentListener listener;
  return listener.port();
}

std::string messageOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const StoreError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no StoreError";
  return "";
}

void expectNoSecretIn(const std::string& message) {
  EXPECT_EQ(message.find(kPassword), std::string::npos) << message;
  EXPECT_EQ(message.find("postgres://"), std::string::npos) << message;
}

class PostgresKeyStoreTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (!server_) server_ = std::make_unique<testing::PostgresServer>();
    if (!server_->available()) GTEST_SKIP() << server_->skipReason();
    // A restart test may have left it stopped when it failed half-way.
    server_->start();
    static int databases = 0;
    database_ = "store_" + std::to_string(++databases);
    url_ = server_->createDatabase(database_);
  }

  // The same database with a password in the URL (trust auth ignores it).
  std::string urlWithPassword() const {
    return "postgres://portico:" + std::string(kPassword) +
           "@127.0.0.1:" + std::to_string(server_->port()) + "/" + database_;
  }
  std::string where() const { return "127.0.0.1:" + std::to_string(server_->port()) + "/"; }

  static inline std::unique_ptr<testing::PostgresServer> server_;
  std::string database_;
  std::string url_;
};

TEST_F(PostgresKeyStoreTest, SchemaVersionIsSqlites) {
  const auto dir = testing::uniqueTempPath("portico_pg_sqlite");
  const auto sqlite = openSqliteKeyStore(dir);
  const auto postgres = openPostgresKeyStore(url_);

  EXPECT_EQ(postgres->schemaVersion(), sqlite->schemaVersion());
  EXPECT_EQ(postgres->schemaVersion(), kSqliteSchemaVersion);
  std::filesystem::remove_all(dir);
}

TEST_F(PostgresKeyStoreTest, PostgresqlSchemeAndTheFactoryBothWork) {
  const std::string url = "postgresql" + url_.substr(std::string("postgres").size());

  const auto store = openKeyStore(url, "/nonexistent-unused");

  store->insert(fullRecord("vk_1", "one"));
  EXPECT_EQ(openKeyStore(url_, "")->all().size(), 1u);
}

TEST_F(PostgresKeyStoreTest, ThreeStoresOpeningAnEmptyDatabaseAtOnceAllSucceed) {
  std::barrier start(3);
  std::vector<std::unique_ptr<KeyStore>> stores(3);
  std::vector<std::string> errors(3);
  std::vector<std::thread> gateways;
  for (int i = 0; i < 3; ++i) {
    gateways.emplace_back([&, i] {
      start.arrive_and_wait();
      try {
        stores[i] = openPostgresKeyStore(url_);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& gateway : gateways) gateway.join();

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(stores[i]) << errors[i];
    EXPECT_EQ(stores[i]->schemaVersion(), kSqliteSchemaVersion);
  }
  const auto start_generation = stores[0]->generation();
  stores[1]->insert(fullRecord("vk_1", "one"));
  EXPECT_EQ(stores[2]->generation(), start_generation + 1);
}

TEST_F(PostgresKeyStoreTest, NewerSchemaIsRefused) {
  openPostgresKeyStore(url_);
  rawExec(url_, "UPDATE meta SET value = value + 1 WHERE name = 'schema_version'");

  const std::string message = messageOf([&] { openPostgresKeyStore(url_); });

  EXPECT_NE(message.find("newer"), std::string::npos) << message;
  EXPECT_NE(message.find(where() + database_), std::string::npos) << message;
}

TEST_F(PostgresKeyStoreTest, ForeignTablesWithOurNamesAreRefusedOthersLeftAlone) {
  rawExec(url_, "CREATE TABLE songs (title TEXT)");
  EXPECT_NO_THROW(openPostgresKeyStore(url_));

  const std::string other = server_->createDatabase(database_ + "_other");
  rawExec(other, "CREATE TABLE usage (title TEXT)");
  const std::string message = messageOf([&] { openPostgresKeyStore(other); });
  EXPECT_NE(message.find("not Portico's"), std::string::npos) << message;
}

TEST_F(PostgresKeyStoreTest, StoreSurvivesAServerRestart) {
  const auto store = openPostgresKeyStore(url_);
  store->insert(fullRecord("vk_1", "one"));

  server_->stop();
  server_->start();

  EXPECT_EQ(store->all().size(), 1u);  // a read: reconnects and runs again
  server_->stop();
  server_->start();
  store->insert(fullRecord("vk_2", "two"));  // a write after a restart goes through as well
  EXPECT_EQ(store->all().size(), 2u);
}

TEST_F(PostgresKeyStoreTest, DuringAnOutageErrorsNameTheServerNeverThePassword) {
  const auto store = openPostgresKeyStore(urlWithPassword());
  store->insert(fullRecord("vk_1", "one"));

  server_->stop();
  std::vector<std::string> messages = {
      messageOf([&] { store->all(); }), messageOf([&] { store->generation(); }),
      messageOf([&] { store->insert(fullRecord("vk_2", "two")); }),
      messageOf([&] { store->addUsage({usageRow("vk_1", "2024-05-01", "m", 1)}); })};
  server_->start();

  for (const std::string& message : messages) {
    EXPECT_NE(message.find(where() + database_), std::string::npos) << message;
    expectNoSecretIn(message);
  }
  EXPECT_EQ(store->all().size(), 1u);
  store->insert(fullRecord("vk_2", "two"));
  EXPECT_EQ(store->all().size(), 2u);
}

TEST_F(PostgresKeyStoreTest, UnreachableServerIsAStoreErrorWithoutThePassword) {
  const int port = closedPort();
  const std::string url =
      "postgres://portico:" + std::string(kPassword) + "@127.0.0.1:" + std::to_string(port) + "/db";

  const std::string message = messageOf([&] { openPostgresKeyStore(url); });

  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port) + "/db"), std::string::npos)
      << message;
  expectNoSecretIn(message);
}

TEST_F(PostgresKeyStoreTest, MalformedUrlIsAStoreErrorWithoutThePassword) {
  // A broken percent-escape in the password: libpq's own message would quote it.
  const std::string url = "postgres://portico:" + std::string(kPassword) + "%zz@127.0.0.1/db";

  const std::string message = messageOf([&] { openPostgresKeyStore(url); });

  EXPECT_NE(message.find("malformed"), std::string::npos) << message;
  expectNoSecretIn(message);
}

TEST_F(PostgresKeyStoreTest, UnknownDatabaseIsNamed) {
  const std::string message = messageOf([&] { openPostgresKeyStore(server_->url("nowhere")); });

  EXPECT_NE(message.find("/nowhere"), std::string::npos) << message;
}

TEST_F(PostgresKeyStoreTest, ConnectTimeoutIsFiveSecondsUnlessTheUrlSetsOne) {
  SilentListener hung;
  const std::string base = "postgres://portico:" + std::string(kPassword) +
                           "@127.0.0.1:" + std::to_string(hung.port()) + "/db";

  auto timed = [](const std::string& url) {
    const auto started = std::chrono::steady_clock::now();
    const std::string message = messageOf([&] { openPostgresKeyStore(url); });
    expectNoSecretIn(message);
    return std::chrono::steady_clock::now() - started;
  };
  const auto chosen = timed(base + "?connect_timeout=2");
  const auto by_default = timed(base);

  EXPECT_GE(chosen, 1500ms);
  EXPECT_LT(chosen, 4500ms);
  EXPECT_GE(by_default, 4500ms);
  EXPECT_LT(by_default, 15s);
}

TEST_F(PostgresKeyStoreTest, TextPostgresCannotHoldIsRefusedForKeysAndMendedForUsage) {
  const auto store = openPostgresKeyStore(url_);
  store->insert(fullRecord("vk_1", "one"));

  // Sent with its length: refused by the server rather than cut at the NUL.
  EXPECT_THROW(store->insert(fullRecord("vk_2", std::string("two\0hidden", 10))), StoreError);
  EXPECT_FALSE(store->findByName("two").has_value());

  store->addUsage({usageRow("vk_1", "2024-05-01", std::string("bad\0model", 9), 1),
                   usageRow("vk_1", "2024-05-01", "bad\xff", 1),
                   usageRow("vk_1", "2024-05-01", "good", 1)});
  const auto rows = store->usage("vk_1", "", "");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].model, "bad\xEF\xBF\xBD");
  EXPECT_EQ(rows[1].model, "bad\xEF\xBF\xBDmodel");
  EXPECT_EQ(rows[2].model, "good");
}

TEST_F(PostgresKeyStoreTest, KeeperPollsFastEnoughForAnotherGatewaysChange) {
  const auto gateway_store = openPostgresKeyStore(url_);
  const auto admin_store = openPostgresKeyStore(url_);
  ASSERT_EQ(gateway_store->changePollInterval(), 250ms);
  KeyIndex index(*gateway_store, std::nullopt);
  index.reload();
  UsageRecorder usage;
  KeyKeeper keeper(*gateway_store, index, usage);  // the store's own poll interval
  keeper.start();

  KeyRecord record = fullRecord("vk_1", "one");
  record.secrets = {};  // nothing sealed: no master key needed to load it
  admin_store->insert(record);
  const auto changed = std::chrono::steady_clock::now();
  while (index.size() == 0 && std::chrono::steady_clock::now() - changed < 5s) {
    std::this_thread::sleep_for(10ms);
  }
  const auto seen_after = std::chrono::steady_clock::now() - changed;
  keeper.stop();

  EXPECT_EQ(index.size(), 1u);
  EXPECT_LT(seen_after, 1s);
}

TEST_F(PostgresKeyStoreTest, UsageRecordedDuringAnOutageIsWrittenAfterIt) {
  const auto store = openPostgresKeyStore(url_);
  store->insert(fullRecord("vk_1", "one"));
  UsageRecorder recorder;
  const std::int64_t at = 1714564800;  // 2024-05-01
  recorder.record(UsageEvent{"vk_1", "m", at, 10, 5, 0, 0.5});

  server_->stop();
  EXPECT_THROW(recorder.flush(*store), StoreError);
  EXPECT_EQ(recorder.keptRows(), 1u);
  recorder.record(UsageEvent{"vk_1", "m", at, 1, 1, 0, 0.25});
  server_->start();
  recorder.flush(*store);

  const auto rows = store->usage("vk_1", "", "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].requests, 2);
  EXPECT_EQ(rows[0].prompt_tokens, 11);
  EXPECT_DOUBLE_EQ(rows[0].cost_usd, 0.75);
  EXPECT_EQ(recorder.keptRows(), 0u);
  EXPECT_EQ(recorder.lost(), 0u);
}

TEST_F(PostgresKeyStoreTest, CliWorksOnTheStoreItsStoreOptionNames) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  auto cli = [&](std::vector<std::string> args) {
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    const int code = runKeysCli(args, registry, in, out, err);
    return std::make_pair(code, out.str() + err.str());
  };
  openPostgresKeyStore(url_)->insert(fullRecord("vk_1", "listed-by-cli"));

  const auto by_option = cli({"list", "--store", url_});
  ::setenv("PORTICO_STORE", url_.c_str(), 1);
  const auto by_env = cli({"list"});
  ::unsetenv("PORTICO_STORE");
  const auto bad = cli({"list", "--store", "mysql://portico:" + std::string(kPassword) + "@h/db"});

  EXPECT_EQ(by_option.first, 0) << by_option.second;
  EXPECT_NE(by_option.second.find("listed-by-cli"), std::string::npos) << by_option.second;
  EXPECT_EQ(by_env.first, 0) << by_env.second;
  EXPECT_NE(by_env.second.find("listed-by-cli"), std::string::npos) << by_env.second;
  EXPECT_EQ(bad.first, 1);
  EXPECT_NE(bad.second.find("--store must be sqlite or a postgres:// URL"), std::string::npos)
      << bad.second;
  EXPECT_EQ(bad.second.find(kPassword), std::string::npos) << bad.second;
}

}  // namespace
}  // namespace portico::keys
