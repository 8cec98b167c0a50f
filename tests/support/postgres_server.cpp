#include "support/postgres_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace portico::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kReadyTimeout = 60s;  // a loaded CI machine under sanitizers; usually < 1 s
constexpr auto kReadyPoll = 20ms;
constexpr const char* kServerUser = "postgres";

bool isRoot() { return ::geteuid() == 0; }

// /usr/lib/postgresql/<version>/bin with the three programs we run; the highest version.
fs::path newestBinDir() {
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const fs::path bin = entry.path() / "bin";
    const bool complete =
        fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl") && fs::exists(bin / "postgres");
    if (complete && std::stoi(name) > best_version) {
      best_version = std::stoi(name);
      best = bin;
    }
  }
  return best;
}

fs::path setprivPath() {
  for (const char* candidate : {"/usr/bin/setpriv", "/bin/setpriv"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

// As root, the server's programs run as `postgres` (initdb and postgres refuse root), through
// setpriv, which execs the program itself: the pid we get is the program's. The server also
// gets a parent-death signal, so a test process that crashes or is killed takes its server
// along instead of leaving it running.
std::vector<std::string> asServerUser(std::vector<std::string> argv, bool server = false) {
  std::vector<std::string> prefix;
  if (isRoot()) {
    const passwd* user = ::getpwnam(kServerUser);
    prefix = {setprivPath().string(), "--reuid=" + std::to_string(user->pw_uid),
              "--regid=" + std::to_string(user->pw_gid), "--init-groups"};
  }
  if (server && !setprivPath().empty()) {
    if (prefix.empty()) prefix = {setprivPath().string()};
    prefix.push_back("--pdeathsig=SIGQUIT");  // SIGQUIT: the postmaster's immediate shutdown
  }
  if (!prefix.empty()) prefix.push_back("--");
  argv.insert(argv.begin(), prefix.begin(), prefix.end());
  return argv;
}

void giveToServerUser(const fs::path& path) {
  if (!isRoot()) return;
  const passwd* user = ::getpwnam(kServerUser);
  if (user == nullptr) throw std::runtime_error("no postgres user");
  auto give = [user](const fs::path& p) {
    if (::lchown(p.c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("cannot chown " + p.string());
    }
  };
  give(path);
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::recursive_directory_iterator(path)) give(entry.path());
  }
}

std::string tail(const fs::path& file, std::size_t max = 4000) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > max ? text.substr(text.size() - max) : text;
}

// Starts argv (no shell) in `cwd`, its output appended to `log`; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // The server user may not be allowed into the tests' working directory.
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot run " + argv[0]);
  return pid;
}

int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Runs argv to its end; returns the exit status.
int run(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd) {
  return waitFor(spawn(argv, log, cwd));
}

// A port nobody listens on now (the kernel's pick); the server binds it a moment later.
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string superuserConninfo(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " user=postgres dbname=postgres connect_timeout=10";
}

// Constant SQL (and validated names) as the cluster's superuser.
void superuserExec(int port, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(superuserConninfo(port).c_str()),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("postgres: " + std::string(PQerrorMessage(conn.get())));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  }
}

// Root's TMPDIR may sit where the server user cannot go; /tmp is open to every user.
fs::path tempBase() { return isRoot() ? fs::path("/tmp") : fs::temp_directory_path(); }

fs::path makePrivateDir() {
  std::string pattern = (tempBase() / "portico_pg_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  giveToServerUser(pattern);
  return pattern;
}

}  // namespace

PostgresServer::PostgresServer() {
  bin_ = newestBinDir();
  if (bin_.empty()) {
    skip_reason_ = "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin";
    return;
  }
  if (isRoot() && (::getpwnam(kServerUser) == nullptr || setprivPath().empty())) {
    skip_reason_ = "running as root without a postgres user (or setpriv) to run the server as";
    return;
  }
  dir_ = makePrivateDir();
  try {
    initCluster();
    // The free port may be taken before the server binds it: then again on another.
    for (int attempt = 1;; ++attempt) {
      usePort(freePort());
      try {
        start();
        break;
      } catch (const std::runtime_error&) {
        if (attempt == 3) throw;
      }
    }
    superuserExec(port_, "CREATE ROLE portico LOGIN CREATEDB");
    superuserExec(port_, "CREATE DATABASE portico OWNER portico");
  } catch (...) {
    try {
      stop();
    } catch (...) {
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (...) {
    // A server pg_ctl could not stop dies with its directory.
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

// Copies the machine's template cluster, making it first when missing (the rename makes it
// appear whole, and a process that loses the race to make it uses the winner's).
void PostgresServer::initCluster() {
  const std::string owner = std::to_string(::geteuid());
  const fs::path version = bin_.parent_path().filename();
  const fs::path cluster = tempBase() / ("portico_pg_template_" + version.string() + "_" + owner);
  if (!fs::exists(cluster / "PG_VERSION")) {
    static std::atomic<int> counter{0};
    const fs::path fresh =
        cluster.string() + ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    fs::create_directories(fresh);
    giveToServerUser(fresh);
    const int rc =
        run(asServerUser({(bin_ / "initdb").string(), "-D", (fresh / "data").string(), "-U",
                          "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"}),
            dir_ / "initdb.log", dir_);
    std::error_code ec;
    if (rc == 0) fs::rename(fresh / "data", cluster, ec);
    fs::remove_all(fresh, ec);
    if (rc != 0) throw std::runtime_error("initdb failed:\n" + tail(dir_ / "initdb.log"));
  }
  const fs::path data = dir_ / "data";
  fs::copy(cluster, data, fs::copy_options::recursive);
  fs::permissions(data, fs::perms::owner_all, fs::perm_options::replace);
  std::ofstream(data / "postgresql.conf", std::ios::app)
      << "\n# PostgresServer (tests)\n"
      << "listen_addresses = '127.0.0.1'\n"
      << "unix_socket_directories = '" << dir_.string() << "'\n"
      << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
      << "shared_buffers = 16MB\nmax_connections = 60\n";
  giveToServerUser(data);
}

// A later line wins in postgresql.conf.
void PostgresServer::usePort(int port) {
  port_ = port;
  std::ofstream(dir_ / "data" / "postgresql.conf", std::ios::app) << "port = " << port << "\n";
}

// The postmaster runs as our child (not daemonised by pg_ctl) so that it dies with us.
void PostgresServer::start() {
  if (server_pid_ > 0 || !available()) return;
  server_pid_ = spawn(asServerUser({(bin_ / "postgres").string(), "-D", (dir_ / "data").string()},
                                   /*server=*/true),
                      dir_ / "server.log", dir_);
  waitUntilReady();
}

void PostgresServer::stop() {
  if (server_pid_ <= 0) return;
  const pid_t pid = std::exchange(server_pid_, -1);
  const fs::path log = dir_ / "pg_ctl.log";
  const int rc = run(asServerUser({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m",
                                   "fast", "-w", "-t", "60", "stop"}),
                     log, dir_);
  if (rc != 0) ::kill(pid, SIGQUIT);
  waitFor(pid);
  if (rc != 0) throw std::runtime_error("pg_ctl stop failed:\n" + tail(log));
}

void PostgresServer::waitUntilReady() {
  const std::string conninfo = superuserConninfo(port_);
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (PQping(conninfo.c_str()) != PQPING_OK) {
    int status = 0;
    if (::waitpid(server_pid_, &status, WNOHANG) == server_pid_) {
      server_pid_ = -1;
      throw std::runtime_error("postgres exited at start:\n" + tail(dir_ / "server.log"));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("postgres did not accept connections:\n" +
                               tail(dir_ / "server.log"));
    }
    std::this_thread::sleep_for(kReadyPoll);
  }
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgres://portico@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::createDatabase(const std::string& name) const {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!plain) throw std::invalid_argument("database names here are [a-z0-9_]+: " + name);
  // An identifier cannot be a bound parameter; the check above keeps it one plain word.
  superuserExec(port_, "CREATE DATABASE " + name + " OWNER portico");
  return url(name);
}

}  // namespace portico::testing
