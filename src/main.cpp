// portico: a Portkey-compatible AI gateway. Parses flags and environment, starts the server,
// and stops it gracefully on SIGTERM or SIGINT.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "keys/key_runtime.hpp"
#include "keys/key_store.hpp"
#include "keys/keys_cli.hpp"
#include "keys/price_table.hpp"
#include "keys/shared_limits.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/gen_ai_names.hpp"
#include "portico/provider_registry.hpp"
#include "portico/server.hpp"
#include "redis/redis_health.hpp"
#include "redis/redis_url.hpp"
#include "telemetry/console_api.hpp"
#include "telemetry/exposition.hpp"
#include "telemetry/json_log_formatter.hpp"
#include "telemetry/metrics_observer.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/otlp_settings.hpp"
#include "telemetry/recent_requests.hpp"
#include "telemetry/trace_observer.hpp"
#include "upstream/otlp_http_post.hpp"

namespace {

constexpr const char* kUsage = R"(Usage: portico [options]
       portico keys <create|list|show|update|rotate|disable|enable|delete|usage|rekey> ...
                    (portico keys --help)

Options (each also read from the environment variable shown; flags win):
  --host ADDR                 listen address            PORTICO_HOST     (127.0.0.1)
  --port N                    listen port               PORTICO_PORT, PORT (8787)
  --threads N                 worker threads            PORTICO_THREADS  (cores)
  --log-level LEVEL           trace|debug|info|warn|error|off  PORTICO_LOG_LEVEL, LOG_LEVEL (info)
  --log-format FORMAT         text or json (every line one JSON object)  PORTICO_LOG_FORMAT (text)
  --no-access-log             no per-request log line   PORTICO_ACCESS_LOG=0
  --ca-file PATH              extra CA bundle for upstream TLS  PORTICO_CA_FILE
  --trusted-custom-hosts LIST hosts allowed as custom hosts despite the SSRF guard,
                              comma-separated; replaces the default list
                              PORTICO_TRUSTED_CUSTOM_HOSTS, TRUSTED_CUSTOM_HOSTS
                              (localhost,127.0.0.1,::1,host.docker.internal)
  --max-body-bytes N          request body limit (413 past it)  PORTICO_MAX_BODY_BYTES (33554432)
  --max-header-bytes N        request header limit               PORTICO_MAX_HEADER_BYTES (65536)
  --max-upstream-body-bytes N largest non-streamed upstream answer (502 past it)
                              PORTICO_MAX_UPSTREAM_BODY_BYTES (16777216)
  --max-buffered-bytes N      all non-streamed upstream answers held at once, every worker
                              together (502 past it)  PORTICO_MAX_BUFFERED_BYTES (268435456)
  --upstream-timeout-ms N     longest upstream silence before 504 (0: none)
                              PORTICO_UPSTREAM_TIMEOUT_MS (600000)
  --connect-timeout-ms N      upstream connect timeout  PORTICO_CONNECT_TIMEOUT_MS (10000)
  --shutdown-grace-ms N       how long in-flight requests may finish on SIGTERM
                              PORTICO_SHUTDOWN_GRACE_MS (30000)

Observability:
  --metrics on|off            GET /metrics in Prometheus' format  PORTICO_METRICS (on)
  --metrics-port N            serve /metrics (and /health, /ready) on this port instead of the
                              gateway's  PORTICO_METRICS_PORT
  --metrics-max-models N      distinct model label values; the rest are "other"
                              PORTICO_METRICS_MAX_MODELS (100)
  Traces: OTLP/HTTP JSON, configured by OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT),
  OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG;
  off when no endpoint is set.

Virtual keys:
  --data-dir DIR              where the key store lives (DIR/portico.db)  PORTICO_DATA_DIR (./data)
  --master-key-file PATH      32 random bytes in base64 that seal provider secrets
                              PORTICO_MASTER_KEY_FILE; or the key itself in PORTICO_MASTER_KEY
  --auth MODE                 open (header and config credentials too) or virtual-keys (every
                              request needs x-portkey-virtual-key)  PORTICO_AUTH (open)
  --prices PATH               price table rows over the built-in ones  PORTICO_PRICES
  --admin-port N              serve the admin API on this port instead of the gateway's
                              PORTICO_ADMIN_PORT; the API is on only when PORTICO_ADMIN_TOKEN is set
  --store STORE               sqlite (a file in --data-dir) or postgres://user:pass@host:port/db,
                              a store several gateways share  PORTICO_STORE (sqlite); a password
                              in a flag is visible to every local user: prefer the variable

Scale-out (several gateways behind one load balancer, see docs/scale-out.md):
  --redis URL                 redis://[:password@]host:port[/db]: virtual keys' limits and
                              budgets, and the response cache, shared by every gateway using it
                              PORTICO_REDIS (Redis 5 or newer; prefer the variable for a password)
  --redis-failure-mode MODE   when Redis does not answer: open (let the request through
                              uncounted) or closed (503), for all limits or per kind, e.g.
                              rate:open,budget:closed  PORTICO_REDIS_FAILURE_MODE
                              (rate:open,budget:closed); the cache then misses
  --redis-timeout-ms N        longest wait for a Redis answer  PORTICO_REDIS_TIMEOUT_MS (200)
  --rate-window-ms N          the window RPM and TPM count over with --redis; shorten it only
                              to test  PORTICO_RATE_WINDOW_MS (60000)
  --help                      this text
)";

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

long long toNumber(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= 0) {
      return value;
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(flag + " needs a non-negative number, got '" + text + "'");
}

struct Settings {
  portico::ServerOptions server;
  portico::keys::KeySettings keys;
  unsigned short admin_port = 0;    // 0: the admin API is on the gateway's listener
  unsigned short metrics_port = 0;  // 0: /metrics is on the gateway's listener
  bool metrics = true;
  std::size_t metrics_max_models = 100;
  bool data_dir_given = false;
  portico::keys::SharedLimitSettings shared_limits;
  std::string log_level = "info";
};

unsigned short toPort(const std::string& flag, const std::string& text) {
  long long port = toNumber(flag, text);
  if (port > 65535) {
    throw std::invalid_argument(flag + " must be at most 65535");
  }
  return static_cast<unsigned short>(port);
}

bool toSwitch(const std::string& flag, const std::string& value) {
  if (value == "on" || value == "1" || value == "true") {
    return true;
  }
  if (value == "off" || value == "0" || value == "false") {
    return false;
  }
  throw std::invalid_argument(flag + " must be on or off, got '" + value + "'");
}

// The observability flags; false when `name` is not one of them.
bool applyTelemetryOption(Settings& s, const std::string& name, const std::string& value) {
  if (name == "log-format") {
    if (value != "text" && value != "json") {
      throw std::invalid_argument("--log-format must be text or json, got '" + value + "'");
    }
    s.server.log_json = value == "json";
  } else if (name == "metrics") {
    s.metrics = toSwitch("--metrics", value);
  } else if (name == "metrics-port") {
    s.metrics_port = toPort("--metrics-port", value);
  } else if (name == "metrics-max-models") {
    s.metrics_max_models = static_cast<std::size_t>(toNumber("--metrics-max-models", value));
  } else {
    return false;
  }
  return true;
}

// The scale-out flags; false when `name` is not one of them.
bool applyRedisOption(Settings& s, const std::string& name, const std::string& value) {
  if (name == "redis") {
    std::string why;
    if (!value.empty() && !portico::redis::parseRedisUrl(value, why)) {
      throw std::invalid_argument(why);
    }
    s.server.redis_url = value;
  } else if (name == "redis-failure-mode") {
    std::string why;
    auto modes = portico::keys::parseFailureModes(value, s.shared_limits, why);
    if (!modes) {
      throw std::invalid_argument(why);
    }
    s.shared_limits = *modes;
  } else if (name == "redis-timeout-ms") {
    s.server.redis_timeout =
        std::chrono::milliseconds(std::max<long long>(1, toNumber("--redis-timeout-ms", value)));
  } else if (name == "rate-window-ms") {
    s.shared_limits.window =
        std::chrono::milliseconds(std::max<long long>(60, toNumber("--rate-window-ms", value)));
  } else {
    return false;
  }
  return true;
}

// The virtual-key flags; false when `name` is not one of them.
bool applyKeyOption(Settings& s, const std::string& name, const std::string& value) {
  if (name == "data-dir") {
    s.keys.data_dir = value;
    s.data_dir_given = true;
  } else if (name == "master-key-file") {
    s.keys.master_key_file = value;
  } else if (name == "auth") {
    if (value != "open" && value != "virtual-keys") {
      throw std::invalid_argument("--auth must be open or virtual-keys, got '" + value + "'");
    }
    s.keys.require_virtual_keys = value == "virtual-keys";
  } else if (name == "prices") {
    s.keys.prices_file = value;
  } else if (name == "admin-port") {
    s.admin_port = toPort("--admin-port", value);
  } else if (name == "store") {
    s.keys.store = value == "sqlite" ? "" : value;
    if (!s.keys.store.empty() && !s.keys.store.starts_with("postgres://") &&
        !s.keys.store.starts_with("postgresql://")) {
      throw std::invalid_argument("--store must be sqlite or a postgres:// URL");
    }
  } else {
    return false;
  }
  return true;
}

void apply(Settings& s, const std::string& name, const std::string& value) {
  using std::chrono::milliseconds;
  if (applyKeyOption(s, name, value) || applyTelemetryOption(s, name, value) ||
      applyRedisOption(s, name, value)) {
    return;
  }
  if (name == "host") {
    s.server.host = value;
  } else if (name == "port") {
    s.server.port = toPort("--port", value);
  } else if (name == "threads") {
    s.server.threads = static_cast<int>(toNumber("--threads", value));
  } else if (name == "log-level") {
    s.log_level = value;
  } else if (name == "ca-file") {
    s.server.ca_file = value;
  } else if (name == "trusted-custom-hosts") {
    s.server.trusted_custom_hosts = portico::CustomHostPolicy::parseList(value);
  } else if (name == "max-body-bytes") {
    s.server.max_body_bytes = static_cast<std::size_t>(toNumber("--max-body-bytes", value));
  } else if (name == "max-header-bytes") {
    s.server.max_header_bytes = static_cast<std::size_t>(toNumber("--max-header-bytes", value));
  } else if (name == "max-upstream-body-bytes") {
    s.server.max_upstream_body_bytes =
        static_cast<std::size_t>(toNumber("--max-upstream-body-bytes", value));
  } else if (name == "max-buffered-bytes") {
    s.server.max_buffered_upstream_bytes =
        static_cast<std::size_t>(toNumber("--max-buffered-bytes", value));
  } else if (name == "upstream-timeout-ms") {
    s.server.upstream_read_timeout = milliseconds(toNumber("--upstream-timeout-ms", value));
  } else if (name == "connect-timeout-ms") {
    s.server.upstream_connect_timeout = milliseconds(toNumber("--connect-timeout-ms", value));
  } else if (name == "shutdown-grace-ms") {
    s.server.shutdown_grace = milliseconds(toNumber("--shutdown-grace-ms", value));
  } else if (name == "access-log") {
    s.server.access_log = value != "0" && value != "false";
  } else {
    throw std::invalid_argument("unknown option --" + name);
  }
}

Settings loadSettings(int argc, char** argv) {
  Settings s;
  // Environment first, flags override.
  static constexpr std::pair<const char*, const char*> kEnv[] = {
      {"PORT", "port"},
      {"PORTICO_HOST", "host"},
      {"PORTICO_PORT", "port"},
      {"PORTICO_THREADS", "threads"},
      {"LOG_LEVEL", "log-level"},
      {"PORTICO_LOG_LEVEL", "log-level"},
      {"PORTICO_CA_FILE", "ca-file"},
      {"TRUSTED_CUSTOM_HOSTS", "trusted-custom-hosts"},
      {"PORTICO_TRUSTED_CUSTOM_HOSTS", "trusted-custom-hosts"},
      {"PORTICO_MAX_BODY_BYTES", "max-body-bytes"},
      {"PORTICO_MAX_HEADER_BYTES", "max-header-bytes"},
      {"PORTICO_MAX_UPSTREAM_BODY_BYTES", "max-upstream-body-bytes"},
      {"PORTICO_MAX_BUFFERED_BYTES", "max-buffered-bytes"},
      {"PORTICO_UPSTREAM_TIMEOUT_MS", "upstream-timeout-ms"},
      {"PORTICO_CONNECT_TIMEOUT_MS", "connect-timeout-ms"},
      {"PORTICO_SHUTDOWN_GRACE_MS", "shutdown-grace-ms"},
      {"PORTICO_ACCESS_LOG", "access-log"},
      {"PORTICO_DATA_DIR", "data-dir"},
      {"PORTICO_MASTER_KEY_FILE", "master-key-file"},
      {"PORTICO_AUTH", "auth"},
      {"PORTICO_PRICES", "prices"},
      {"PORTICO_ADMIN_PORT", "admin-port"},
      {"PORTICO_LOG_FORMAT", "log-format"},
      {"PORTICO_METRICS", "metrics"},
      {"PORTICO_METRICS_PORT", "metrics-port"},
      {"PORTICO_METRICS_MAX_MODELS", "metrics-max-models"},
      {"PORTICO_STORE", "store"},
      {"PORTICO_REDIS", "redis"},
      {"PORTICO_REDIS_FAILURE_MODE", "redis-failure-mode"},
      {"PORTICO_REDIS_TIMEOUT_MS", "redis-timeout-ms"},
      {"PORTICO_RATE_WINDOW_MS", "rate-window-ms"},
  };
  for (const auto& [variable, name] : kEnv) {
    if (auto value = env(variable)) {
      apply(s, name, *value);
    }
  }
  // A secret: from the environment only, never a flag (argv is visible to every local user).
  s.keys.admin_token = env("PORTICO_ADMIN_TOKEN").value_or("");
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (!arg.starts_with("--")) {
      throw std::invalid_argument("unexpected argument '" + arg + "'");
    }
    arg = arg.substr(2);
    if (arg == "no-access-log") {
      s.server.access_log = false;
      continue;
    }
    // Both --name=value and --name value.
    std::string name = arg;
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw std::invalid_argument("--" + name + " needs a value");
    }
    apply(s, name, value);
  }
  return s;
}

// The virtual keys, or none when the store cannot be opened and nothing asked for them (the
// default ./data not writable in open mode: the gateway runs as it did before key stores).
std::unique_ptr<portico::keys::KeyRuntime> openKeys(const Settings& settings,
                                                    const portico::ProviderRegistry& registry) {
  const bool asked = settings.data_dir_given || !settings.keys.store.empty() ||
                     settings.keys.require_virtual_keys || !settings.keys.admin_token.empty() ||
                     !settings.keys.master_key_file.empty() || env("PORTICO_MASTER_KEY");
  try {
    return std::make_unique<portico::keys::KeyRuntime>(settings.keys, registry);
  } catch (const portico::keys::StoreError& e) {
    if (asked) {
      throw;
    }
    spdlog::warn("virtual keys off: {}", e.what());
    return nullptr;
  }
}

// Logging: the default logger, and the access logger JSON mode writes its objects to.
void setUpLogging(const Settings& settings, spdlog::level::level_enum level) {
  spdlog::set_level(level);
  if (!settings.server.log_json) {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    return;
  }
  auto access = std::make_shared<spdlog::logger>(portico::telemetry::kAccessLoggerName,
                                                 spdlog::default_logger()->sinks().begin(),
                                                 spdlog::default_logger()->sinks().end());
  access->set_level(level);
  spdlog::register_logger(access);
  spdlog::set_formatter(std::make_unique<portico::telemetry::JsonLogFormatter>());
}

// The metrics observer, with the trace exporter's counters when tracing is on.
std::shared_ptr<portico::telemetry::MetricsObserver> makeMetrics(
    const Settings& settings,
    std::shared_ptr<const portico::keys::PriceTable> prices,
    std::shared_ptr<portico::telemetry::OtlpExporter> exporter) {
  portico::telemetry::MetricsSettings metrics;
  metrics.max_models = settings.metrics_max_models;
  metrics.cost = [prices](std::string_view model, const portico::Usage& usage) {
    return prices->cost(model, usage);
  };
  if (auto health = settings.server.redis_health) {
    metrics.extra.push_back([health](std::string& out) { health->render(out); });
  }
  if (exporter) {
    metrics.extra.push_back([exporter](std::string& out) {
      portico::telemetry::Exposition text(out);
      text.family("portico_trace_spans_exported_total", "counter",
                  "Spans the OTLP collector accepted.");
      text.sample("portico_trace_spans_exported_total", {}, exporter->exported());
      text.family("portico_trace_spans_dropped_total", "counter",
                  "Spans lost: the queue was full, or the collector refused or did not answer.");
      text.sample("portico_trace_spans_dropped_total", {}, exporter->dropped());
    });
  }
  return std::make_shared<portico::telemetry::MetricsObserver>(std::move(metrics));
}

// Tracing, when the OTEL_* environment names an endpoint: the exporter's thread, the sampler
// and the observer that makes the spans. Null when tracing is off.
std::shared_ptr<portico::telemetry::OtlpExporter> startTracing(Settings& settings) {
  namespace telemetry = portico::telemetry;
  const auto otlp = telemetry::readOtlpSettings(telemetry::processEnvironment());
  for (const auto& warning : otlp.warnings) {
    spdlog::warn("{}", warning);
  }
  if (!otlp.enabled) {
    return nullptr;
  }
  auto exporter = std::make_shared<telemetry::OtlpExporter>(
      telemetry::exporterOptions(otlp),
      portico::upstream::makeOtlpHttpPoster({.ca_file = otlp.ca_file}));
  settings.server.trace_sampler = telemetry::makeSampler(otlp);
  settings.server.observers.push_back(
      std::make_shared<telemetry::TraceObserver>(exporter, portico::genAiProviderName));
  // Not the endpoint itself: its query or user part may hold a credential.
  spdlog::info("tracing on: spans go to the OTLP/HTTP endpoint in batches");
  return exporter;
}

bool isLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
}

// The console page (GET /console) and the recent-requests observer that feeds its table,
// protected by the admin token when one is set. Without a token it is served only on a
// loopback listener: its data (paths, models, key names) is not for the network at large.
void addConsole(Settings& settings, std::shared_ptr<const portico::keys::PriceTable> prices) {
  if (settings.keys.admin_token.empty() && !isLoopback(settings.server.host)) {
    spdlog::info("console off: set PORTICO_ADMIN_TOKEN to serve it on {}", settings.server.host);
    return;
  }
  auto recent = std::make_shared<portico::telemetry::RecentRequests>(
      200, [prices](std::string_view model, const portico::Usage& usage) -> std::optional<double> {
        if (!prices->find(model)) {
          return std::nullopt;
        }
        return prices->cost(model, usage);
      });
  settings.server.observers.push_back(recent);
  settings.server.console = portico::telemetry::makeConsoleHandler(
      {settings.server.metrics, recent.get(), settings.keys.admin_token});
}

// A listener that serves some routes of the gateway's process (--admin-port, --metrics-port).
std::unique_ptr<portico::Server> sideListener(
    const Settings& settings,
    unsigned short port,
    portico::ListenerRoutes routes,
    std::shared_ptr<const portico::ProviderRegistry> registry) {
  portico::ServerOptions options = settings.server;
  options.port = port;
  options.threads = 1;
  options.routes = routes;
  options.access_log = false;
  options.observers.clear();
  options.redis_url.clear();  // serves no proxied request
  return std::make_unique<portico::Server>(options, std::move(registry));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "keys") {
    auto registry = std::make_shared<portico::ProviderRegistry>();
    portico::registerBuiltinProviders(*registry);
    spdlog::set_level(spdlog::level::warn);
    return portico::keys::runKeysCli(std::vector<std::string>(argv + 2, argv + argc), *registry,
                                     std::cin, std::cout, std::cerr);
  }
  Settings settings;
  try {
    settings = loadSettings(argc, argv);
    // Listeners share ports by SO_REUSEPORT: two on one port would split its connections.
    const auto port = settings.server.port;
    if ((settings.metrics_port != 0 && settings.metrics_port == settings.admin_port) ||
        (port != 0 && (settings.metrics_port == port || settings.admin_port == port))) {
      throw std::invalid_argument("--port, --metrics-port and --admin-port must all differ");
    }
  } catch (const std::exception& e) {
    std::cerr << "portico: " << e.what() << "\n\n" << kUsage;
    return 2;
  }
  auto level = spdlog::level::from_str(settings.log_level);
  if (level == spdlog::level::off && settings.log_level != "off") {
    std::cerr << "portico: unknown log level '" << settings.log_level << "'\n";
    return 2;
  }
  setUpLogging(settings, level);

  // Signals are taken by sigwait() on this thread; workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto registry = std::make_shared<portico::ProviderRegistry>();
  portico::registerBuiltinProviders(*registry);
  std::unique_ptr<portico::keys::KeyRuntime> keys;
  std::vector<std::unique_ptr<portico::Server>> side_listeners;
  std::shared_ptr<portico::telemetry::OtlpExporter> exporter;
  // /ready on the side listeners (started first) waits for the gateway's own listener; the key
  // store, when there is one, is open before anything listens.
  auto gateway_started = std::make_shared<std::atomic<bool>>(false);
  settings.server.ready = [gateway_started] { return gateway_started->load(); };
  if (!settings.server.redis_url.empty()) {
    settings.server.redis_health = std::make_shared<portico::redis::Health>();
    settings.keys.shared_limits = settings.shared_limits;
    settings.keys.redis_health = settings.server.redis_health.get();
  }
  try {
    exporter = startTracing(settings);
    // Metrics and the console price answers with the table virtual keys' budgets use.
    std::shared_ptr<const portico::keys::PriceTable> prices =
        std::make_shared<portico::keys::PriceTable>(
            settings.keys.prices_file.empty()
                ? portico::keys::PriceTable::builtIn()
                : portico::keys::PriceTable::withOverrides(settings.keys.prices_file));
    if (settings.metrics) {
      auto metrics = makeMetrics(settings, prices, exporter);
      settings.server.observers.push_back(metrics);
      settings.server.metrics = [metrics] { return metrics->render(); };
    }
    addConsole(settings, prices);
    keys = openKeys(settings, *registry);
    if (keys) {
      keys->attach(settings.server);
    }
    if (settings.admin_port != 0 && settings.server.admin) {
      side_listeners.push_back(sideListener(settings, settings.admin_port,
                                            {.gateway = false, .metrics = false}, registry));
      settings.server.routes.admin = false;
      settings.server.routes.console = false;
    }
    if (settings.metrics_port != 0 && settings.server.metrics) {
      side_listeners.push_back(sideListener(
          settings, settings.metrics_port,
          {.gateway = false, .admin = false, .metrics = true, .console = false}, registry));
      settings.server.routes.metrics = false;
    }
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  auto server = std::make_unique<portico::Server>(settings.server, registry);
  try {
    // The side listeners first: once the gateway's port answers, theirs do too.
    for (auto& listener : side_listeners) {
      listener->start();
    }
    server->start();
    gateway_started->store(true);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  spdlog::info("portico listening on {}:{} ({} providers, {} virtual keys{}{}{}{}{})",
               settings.server.host, server->port(), registry->ids().size(),
               keys ? keys->keyCount() : 0, settings.keys.store.empty() ? "" : " in postgres",
               settings.keys.require_virtual_keys ? ", virtual keys required" : "",
               settings.server.admin ? ", admin API on" : "",
               settings.server.metrics ? ", metrics on" : "",
               settings.server.redis_url.empty() ? "" : ", limits and cache in redis");

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received {}, draining for up to {} ms", received == SIGINT ? "SIGINT" : "SIGTERM",
               settings.server.shutdown_grace.count());
  // The gateway drains first; the side listeners keep answering (/ready: 503) meanwhile.
  server->stop();
  server->wait();
  for (auto& listener : side_listeners) {
    listener->stop();
    listener->wait();
  }
  // The server first: requests torn down with it still record their usage, which the keys'
  // last flush then writes.
  server.reset();
  side_listeners.clear();
  if (exporter) {
    exporter->stop();  // sends the last spans
  }
  if (keys) {
    keys->stop();
  }
  spdlog::info("stopped");
  return 0;
}
