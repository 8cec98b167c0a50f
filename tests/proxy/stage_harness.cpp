#include "proxy/stage_harness.hpp"

#include <stdexcept>

#include "portico/usage.hpp"
#include "support/fake_upstream.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

class FakeCall : public ProviderCall {
 public:
  FakeCall(const FakeAdapter& adapter, const ClientRequest& request, const Target& target)
      : adapter_(adapter), request_(request), target_(target) {}

  Expected<UpstreamRequest> request() override {
    ++adapter_.counts.request;
    UpstreamRequest out;
    out.method = request_.method;
    out.scheme = "http";
    out.host = "127.0.0.1";
    const std::string port = target_.option("port");
    out.port = port.empty() ? std::to_string(adapter_.upstream_port) : port;
    out.target = "/v1" + request_.path;
    if (!request_.query.empty()) {
      out.target += "?" + request_.query;
    }
    out.headers.emplace_back("content-type", "application/json");
    if (const std::string tag = target_.option("tag"); !tag.empty()) {
      out.headers.emplace_back("x-fake-tag", tag);
    }
    out.body = request_.body != nullptr ? request_.body->dump() : std::string(request_.raw_body);
    return out;
  }

  Expected<bool> authenticate(UpstreamRequest& request) override {
    ++adapter_.counts.authenticate;
    if (!target_.api_key.empty()) {
      request.headers.emplace_back("authorization", "Bearer " + target_.api_key);
    }
    return true;
  }

  MappedResponse mapResponse(UpstreamReply reply) override {
    ++adapter_.counts.map_response;
    MappedResponse out;
    out.status = reply.status;
    out.content_type = reply.content_type;
    out.usage = findOpenAiUsage(reply.body);
    out.body = std::move(reply.body);
    return out;
  }

 private:
  const FakeAdapter& adapter_;
  const ClientRequest& request_;
  const Target& target_;
};

}  // namespace

Expected<ProviderCallPtr> FakeAdapter::open(const ClientRequest& request,
                                            const Target& target) const {
  ++counts.open;
  if (open_throws) {
    throw std::runtime_error(*open_throws);
  }
  if (open_error) {
    return *open_error;
  }
  return ProviderCallPtr(std::make_unique<FakeCall>(*this, request, target));
}

std::optional<std::string> FakeAdapter::tokenCacheKey(const Target& target) const {
  ++counts.token_cache_key;
  const std::string account = target.option("service_account");
  if (account.empty()) {
    return std::nullopt;
  }
  return "fake-sa:" + account;
}

Expected<TokenExchange> FakeAdapter::tokenExchange(const Target& target,
                                                   std::chrono::system_clock::time_point) const {
  ++counts.token_exchange;
  TokenExchange exchange;
  exchange.cache_key = "fake-sa:" + target.option("service_account");
  exchange.request.method = "POST";
  exchange.request.scheme = "http";
  exchange.request.host = "127.0.0.1";
  exchange.request.port = std::to_string(token_port);
  exchange.request.target = "/token";
  exchange.request.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  exchange.request.body = "account=" + target.option("service_account");
  return exchange;
}

Expected<FetchedToken> FakeAdapter::parseTokenReply(const UpstreamReply& reply) const {
  ++counts.parse_token_reply;
  if (reply.status != 200) {
    return errors::failure(401, "fake: token endpoint answered " + std::to_string(reply.status));
  }
  const json body = json::parse(reply.body);
  return FetchedToken{body.at("access_token").get<std::string>(),
                      std::chrono::seconds(body.at("expires_in").get<long long>())};
}

void RecordingObserver::attemptStarted(const RequestInfo&, const AttemptInfo& a) {
  lines.push_back("attemptStarted " + std::string(a.provider) + " " + std::string(a.model) + " " +
                  std::string(a.option_index) + " retry=" + std::to_string(a.retry));
}

void RecordingObserver::upstreamAnswered(const RequestInfo&, const AttemptInfo& a) {
  lines.push_back("upstreamAnswered " + std::to_string(a.status));
}

void RecordingObserver::firstByte(const RequestInfo&, const AttemptInfo& a) {
  lines.push_back("firstByte " + std::to_string(a.status));
}

void RecordingObserver::attemptEnded(const RequestInfo&, const AttemptInfo& a) {
  lines.push_back("attemptEnded " + std::to_string(a.status) +
                  (a.failure.empty() ? "" : " failed"));
}

void RecordingObserver::retrying(const RequestInfo&,
                                 const AttemptInfo& a,
                                 std::chrono::milliseconds) {
  lines.push_back("retrying after " + std::to_string(a.retry));
}

void RecordingObserver::cacheLooked(const RequestInfo&, std::string_view status) {
  lines.push_back("cache " + std::string(status));
}

TestRequest::TestRequest(const nlohmann::json& body_json, Endpoint endpoint, std::string path)
    : body(body_json) {
  request.endpoint = endpoint;
  request.method = "POST";
  request.path = std::move(path);
  request.headers = {{"content-type", "application/json"}};
  request.body = body.is_null() ? "" : body.dump();
  ctx.trace_id = "trace-stage-test";
  info.method = request.method;
  info.path = request.path;
  info.endpoint = endpoint;
  info.gateway_route = true;
  info.trace_id = ctx.trace_id;
  info.started = std::chrono::steady_clock::now();
}

void Gate::open() {
  std::lock_guard lock(mutex_);
  open_ = true;
  changed_.notify_all();
}

bool Gate::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return open_; });
}

namespace {

ProviderRegistry& withFakes(ProviderRegistry& registry,
                            FakeAdapter*& fake,
                            FakeAdapter*& unsupported) {
  auto adapter = std::make_unique<FakeAdapter>("fake", true);
  fake = adapter.get();
  registry.add(std::move(adapter));
  auto other = std::make_unique<FakeAdapter>("fake-unsupported", false);
  unsupported = other.get();
  registry.add(std::move(other));
  return registry;
}

upstream::UpstreamSettings settingsOf(const ServerOptions& options) {
  return upstream::UpstreamSettings{options.upstream_connect_timeout, options.upstream_read_timeout,
                                    options.pool_idle_timeout, options.pool_max_idle_per_host,
                                    options.static_hosts};
}

}  // namespace

StageHarness::StageHarness()
    : tls(upstream::makeTlsContext(testCaFile())),
      client(*tls, settingsOf(options), nullptr),
      worker{options, withFakes(registry, fake, fake_unsupported), route_options, client} {
  route_options.config = configParseOptions(registry);
  route_options.config.is_valid_custom_host = [this](std::string_view) {
    return custom_hosts_valid;
  };
  route_options.make_trace_id = [] { return std::string("trace-stage-test"); };
  worker.observers.add(&observer);
}

Target StageHarness::target(unsigned short port, std::string api_key) {
  Target target;
  target.provider = "fake";
  target.api_key = std::move(api_key);
  if (port != 0) {
    target.options["port"] = std::to_string(port);
  }
  return target;
}

unsigned short closedPort() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

}  // namespace portico::testing
