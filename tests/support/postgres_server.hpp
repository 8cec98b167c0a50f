#pragma once

#include <filesystem>
#include <string>

namespace portico::testing {

// A throwaway PostgreSQL server for tests: a fresh cluster in its own temp directory,
// listening on 127.0.0.1 only, on a free port, its Unix socket inside that directory, trust
// authentication, fsync off. It has a login role `portico` owning a database `portico`. When
// the tests run as root it runs as the `postgres` system user, through setpriv (initdb and
// postgres refuse root). The destructor stops it and removes the directory.
//
//   PostgresServer server;                                  // initdb + start, or unavailable
//   if (!server.available()) GTEST_SKIP() << server.skipReason();
//   auto store = keys::openPostgresKeyStore(server.createDatabase("orders"));
//   server.stop();                                          // an outage ...
//   server.start();                                         // ... over: same data, same port
//
// Binaries come from /usr/lib/postgresql/<version>/bin (the newest). The first server of a
// machine keeps its initdb output as a template under the temp directory; later ones copy it
// (initdb takes seconds, a copy milliseconds: ctest runs each test in its own process).
// The postmaster is a child of the thread that starts it (the constructor, start()), with a
// parent-death signal: a crashed or killed test leaves no server behind, and so those belong
// on a thread that outlives the server (the test's own, not a short-lived helper thread).
class PostgresServer {
 public:
  // Starts the server, or leaves it unavailable() when there are no binaries to run. Throws
  // std::runtime_error (with the server's log) when they exist but the server will not start.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // False when no PostgreSQL is installed (or, as root, no `postgres` user): skip the test.
  bool available() const { return skip_reason_.empty(); }
  const std::string& skipReason() const { return skip_reason_; }

  int port() const { return port_; }
  // postgres://portico@127.0.0.1:PORT/DATABASE
  std::string url(const std::string& database = "portico") const;
  // Creates an empty database owned by `portico` and returns its url(). `name`: [a-z0-9_]+.
  std::string createDatabase(const std::string& name) const;

  // pg_ctl stop -m fast: open connections are cut. Does nothing when stopped.
  void stop();
  // Starts it again on the same data and port; returns once it accepts connections.
  void start();
  bool running() const { return server_pid_ > 0; }

 private:
  void initCluster();
  void usePort(int port);
  void waitUntilReady();

  std::string skip_reason_;
  std::filesystem::path bin_;
  std::filesystem::path dir_;
  int port_ = 0;
  int server_pid_ = -1;  // the postmaster, our child
};

}  // namespace portico::testing
