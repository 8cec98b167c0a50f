#pragma once

// Runs the pipeline's stages (src/proxy) directly, without the HTTP server: a WorkerContext
// over a real upstream client on loopback, a registry holding a test-only fake provider that
// sends to a FakeUpstream and counts its steps, a recording observer, and run(), which drives
// one coroutine to completion on the harness's event loop.

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "net.hpp"
#include "portico/observer.hpp"
#include "portico/provider_adapter.hpp"
#include "portico/provider_registry.hpp"
#include "portico/route_context.hpp"
#include "portico/server.hpp"
#include "proxy/attempt.hpp"
#include "proxy/gateway_request.hpp"
#include "proxy/worker_context.hpp"
#include "upstream/upstream_client.hpp"

namespace portico::testing {

// How often each step of the fake provider ran.
struct FakeCounts {
  int open = 0;
  int request = 0;
  int authenticate = 0;
  int map_response = 0;
  int token_cache_key = 0;
  int token_exchange = 0;
  int parse_token_reply = 0;
};

// The test provider. Its calls send "<method> /v1<path>" to http://127.0.0.1:<port>, the port
// being the target's options["port"] when set, else upstream_port; the body is the client's
// JSON body (override_params merged) or its raw bytes. Options it reads:
//   "port"            the upstream port for this target
//   "tag"             sent as x-fake-tag, so one FakeUpstream can answer per target
//   "service_account" the target needs a token: tokenCacheKey() is "fake-sa:<value>" and
//                     tokenExchange() posts "account=<value>" to 127.0.0.1:<token_port>/token
// authenticate() adds "authorization: Bearer <api_key>" when there is a key. Answers are mapped
// by copying status, content type and body; usage is findOpenAiUsage(body). Streams are relayed
// as they come (no transformer).
class FakeAdapter : public ProviderAdapter {
 public:
  explicit FakeAdapter(std::string id = "fake", bool supported = true)
      : id_(std::move(id)), supported_(supported) {}

  std::string_view id() const override { return id_; }
  bool supports(Endpoint) const override { return supported_; }
  Expected<ProviderCallPtr> open(const ClientRequest& request, const Target& target) const override;
  std::optional<std::string> tokenCacheKey(const Target& target) const override;
  Expected<TokenExchange> tokenExchange(const Target& target,
                                        std::chrono::system_clock::time_point now) const override;
  // {"access_token":..., "expires_in":...} on a 200; else 401 "fake: token endpoint answered
  // <status>".
  Expected<FetchedToken> parseTokenReply(const UpstreamReply& reply) const override;

  unsigned short upstream_port = 0;
  unsigned short token_port = 0;
  // When set, open() fails with it (or throws open_throws).
  std::optional<GatewayError> open_error;
  std::optional<std::string> open_throws;
  mutable FakeCounts counts;

 private:
  std::string id_;
  bool supported_;
};

// Records observer calls as lines ("upstreamAnswered 200", "firstByte", ...).
class RecordingObserver : public Observer {
 public:
  void attemptStarted(const RequestInfo&, const AttemptInfo& a) override;
  void upstreamAnswered(const RequestInfo&, const AttemptInfo& a) override;
  void firstByte(const RequestInfo&, const AttemptInfo& a) override;
  void attemptEnded(const RequestInfo&, const AttemptInfo& a) override;
  void retrying(const RequestInfo&, const AttemptInfo& a, std::chrono::milliseconds) override;
  void cacheLooked(const RequestInfo&, std::string_view status) override;

  std::vector<std::string> lines;
};

// A client request as the stages see it: what RequestState refers to. Not copyable (RequestInfo
// and RequestState point into it).
struct TestRequest {
  explicit TestRequest(const nlohmann::json& body_json,
                       Endpoint endpoint = Endpoint::kChatCompletions,
                       std::string path = "/chat/completions");
  TestRequest(const TestRequest&) = delete;
  TestRequest& operator=(const TestRequest&) = delete;

  proxy::GatewayRequest request;
  RouteContext ctx;
  nlohmann::json body;
  RequestInfo info;
};

// Blocks a FakeUpstream handler thread until the test opens it (bounded, so a failing test
// cannot hang the upstream's destructor).
class Gate {
 public:
  void open();
  // Returns whether the gate was opened within `timeout`.
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

class StageHarness {
 public:
  StageHarness();
  StageHarness(const StageHarness&) = delete;
  StageHarness& operator=(const StageHarness&) = delete;

  // Runs `task` on the harness's event loop until it finished, then whatever is ready to run.
  // (An open upstream connection keeps its deadline timer waiting, so the loop itself does not
  // run out of work while an answer holds one.) Rethrows what the coroutine threw.
  template <class T>
  T run(Awaitable<T> task) {
    std::optional<T> result;
    std::exception_ptr failure;
    bool done = false;
    net::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
      failure = e;
      if (!e) {
        result.emplace(std::move(value));
      }
      done = true;
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done && std::chrono::steady_clock::now() < until) {
      ioc.restart();
      ioc.run_one_for(std::chrono::milliseconds(50));
    }
    ioc.restart();
    ioc.poll();
    if (!done) {
      throw std::runtime_error("the stage did not finish in time");
    }
    if (failure) {
      std::rethrow_exception(failure);
    }
    return std::move(*result);
  }

  proxy::RequestState state(TestRequest& r, CancelToken* cancel = nullptr) {
    return proxy::RequestState{worker, r.request, r.ctx, r.body, cancel, r.info};
  }

  // A target of the fake provider with an api key, sending to `port` (0: upstream_port).
  static Target target(unsigned short port = 0, std::string api_key = "sk-test");

  // Declared first: the pooled connections of `client` live on it.
  net::io_context ioc;
  ServerOptions options;
  ProviderRegistry registry;
  FakeAdapter* fake = nullptr;              // "fake", in registry
  FakeAdapter* fake_unsupported = nullptr;  // "fake-unsupported": supports no endpoint
  RouteContextOptions route_options;
  bool custom_hosts_valid = true;  // what route_options.config.is_valid_custom_host answers
  std::unique_ptr<net::ssl::context> tls;
  upstream::Client client;
  proxy::WorkerContext worker;
  RecordingObserver observer;  // added to worker.observers
};

// A loopback port nothing listens on (bound, then closed).
unsigned short closedPort();

}  // namespace portico::testing
