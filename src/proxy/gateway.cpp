#include "proxy/gateway.hpp"

#include "portico/answer_facts.hpp"
#include "proxy/access_log.hpp"
#include "proxy/request_pipeline.hpp"
#include "proxy/stream_relay.hpp"
#include "redis/redis_client.hpp"
#include "routing/response_cache.hpp"
#include "telemetry/trace_context.hpp"

namespace portico::proxy {

using Clock = std::chrono::steady_clock;

struct SharedResources::Parts {
  std::unique_ptr<net::ssl::context> tls;
  std::unique_ptr<routing::ResponseCache> cache;
  std::unique_ptr<upstream::BufferBudget> buffer_budget;
  std::unique_ptr<AccessLog> access_log;
  std::vector<Observer*> observers;
  std::shared_ptr<redis::Health> redis_health;
};

SharedResources::SharedResources(const ServerOptions& options) : parts_(std::make_unique<Parts>()) {
  parts_->access_log = std::make_unique<AccessLog>(options.log_json);
  parts_->tls = upstream::makeTlsContext(options.ca_file);
  parts_->cache =
      std::make_unique<routing::MemoryResponseCache>(options.cache_max_bytes, options.cache_clock);
  parts_->buffer_budget =
      std::make_unique<upstream::BufferBudget>(options.max_buffered_upstream_bytes);
  if (options.access_log) {
    parts_->observers.push_back(parts_->access_log.get());
  }
  for (const auto& observer : options.observers) {
    parts_->observers.push_back(observer.get());
  }
  parts_->redis_health =
      options.redis_health ? options.redis_health : std::make_shared<redis::Health>();
}

SharedResources::~SharedResources() = default;

struct Gateway::Impl {
  Impl(net::any_io_executor executor,
       const ServerOptions& options,
       const ProviderRegistry& registry,
       const RouteContextOptions& route_options,
       const CustomHostPolicy& host_policy,
       SharedResources::Parts& shared)
      : client(*shared.tls,
               upstream::UpstreamSettings{options.upstream_connect_timeout,
                                          options.upstream_read_timeout, options.pool_idle_timeout,
                                          options.pool_max_idle_per_host, options.static_hosts},
               &host_policy),
        context{options, registry, route_options, client} {
    context.cache = shared.cache.get();
    context.virtual_keys = options.virtual_keys;
    context.buffer_budget = shared.buffer_budget.get();
    for (auto* observer : shared.observers) {
      context.observers.add(observer);
    }
    if (!options.redis_url.empty()) {
      std::string why;
      auto endpoint = redis::parseRedisUrl(options.redis_url, why);
      if (!endpoint) {
        throw std::invalid_argument(why);
      }
      context.redis = std::make_shared<redis::Client>(executor, std::move(*endpoint),
                                                      options.redis_timeout, shared.redis_health);
      // Connected before the first request needs it, on the worker's own thread.
      net::post(executor, [client = std::weak_ptr<redis::Client>(context.redis)] {
        if (auto live = client.lock()) {
          live->connect();
        }
      });
    }
  }

  upstream::Client client;
  WorkerContext context;
};

Gateway::Gateway(net::any_io_executor executor,
                 const ServerOptions& options,
                 const ProviderRegistry& registry,
                 const RouteContextOptions& route_options,
                 const CustomHostPolicy& host_policy,
                 SharedResources& shared)
    : impl_(std::make_unique<Impl>(
          std::move(executor), options, registry, route_options, host_policy, shared.parts())) {}

Gateway::~Gateway() = default;

namespace {

RequestOutcome outcomeOf(const Attempt& attempt) {
  const Reply& reply = attempt.reply;
  RequestOutcome outcome;
  outcome.status = reply.status;
  outcome.provider = reply.provider;
  outcome.model = observedText(reply.model);
  outcome.option_index = attempt.option_index;
  outcome.cache_status = attempt.cache_status;
  outcome.retry_count = attempt.retry_count;
  outcome.usage = reply.usage;
  outcome.upstream_time = reply.upstream_time;
  return outcome;
}

}  // namespace

Awaitable<bool> Gateway::serve(const GatewayRequest& request,
                               std::string_view log_path,
                               edge::AnswerWriter& writer,
                               CancelToken* cancel) {
  auto& context = impl_->context;
  RequestInfo info{request.method, log_path, request.endpoint, true, {}, Clock::now()};
  info.wall_started = std::chrono::system_clock::now();
  info.trace = telemetry::startTrace(request.headers, context.random);
  if (context.options.trace_sampler) {
    info.trace.sampled = context.options.trace_sampler(info.trace);
  }
  context.observers.requestStarted(info);
  std::string trace_id;
  Attempt attempt = co_await runPipeline(context, request, cancel, info, trace_id);
  Reply& reply = attempt.reply;
  RequestOutcome outcome = outcomeOf(attempt);
  // Read only for sampled traces: what the answer says of itself (gen_ai.response.*).
  AnswerFacts facts;
  AnswerFacts* wanted_facts = info.trace.sampled ? &facts : nullptr;
  bool ok = false;
  if (reply.client_gone) {
    outcome.status = 499;
    outcome.client_gone = true;
    if (attempt.key_ticket) {
      attempt.key_ticket->settle(std::nullopt, reply.model);  // sent, then abandoned
    }
  } else if (reply.stream) {
    outcome.streamed = true;
    context.observers.streamStarted(info, outcome);
    const auto relayed =
        co_await relayStream(reply, writer, trace_id, attempt.key_ticket.get(), wanted_facts);
    ok = relayed.client_ok;
    outcome.client_gone = !relayed.client_ok;
    outcome.stream_broken = relayed.stream_broken;
    outcome.usage = relayed.usage;
    if (attempt.key_ticket) {
      // A stream the client left early: what came, else the reservation (the relay settled a
      // finished one already; settling twice does nothing).
      attempt.key_ticket->settle(relayed.usage, reply.model);
    }
  } else {
    if (wanted_facts != nullptr) {
      facts.takeFromJson(reply.body);
    }
    ok = co_await writer.writeComplete(reply.status, reply.content_type, std::move(reply.body),
                                       reply.headers);
  }
  outcome.ended = Clock::now();
  outcome.response_id = facts.id;
  outcome.response_model = facts.model;
  outcome.finish_reasons = facts.finish_reasons;
  context.observers.requestEnded(info, outcome);
  co_return ok;
}

void Gateway::answeredLocally(std::string_view method,
                              std::string_view path,
                              int status,
                              Clock::time_point started) const {
  const auto& observers = impl_->context.observers;
  if (observers.empty()) {
    return;
  }
  RequestInfo info{method, path, Endpoint::kPassthrough, false, {}, started};
  observers.requestStarted(info);
  RequestOutcome outcome;
  outcome.status = status;
  outcome.ended = Clock::now();
  observers.requestEnded(info, outcome);
}

void Gateway::closeIdleConnections() {
  impl_->client.pool().clear();
  if (impl_->context.redis) {
    impl_->context.redis->close();  // its socket wait would keep the worker's loop running
  }
}

}  // namespace portico::proxy
