#include "proxy/leaf.hpp"

#include "apis/translated_adapter.hpp"
#include "proxy/credentials.hpp"
#include "proxy/plan_walk.hpp"
#include "proxy/response_cache_glue.hpp"
#include "routing/retry_policy.hpp"
#include "telemetry/trace_context.hpp"

namespace portico::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// Waits `delay` (scaled by options.retry_delay_scale) before a retry, in short slices so a
// client that hangs up is noticed. Returns false when the client went away.
Awaitable<bool> waitBeforeRetry(RequestState& state, std::chrono::milliseconds delay) {
  const double scale = std::max(0.0, state.worker.options.retry_delay_scale);
  auto remaining = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::duration<double, std::micro>(static_cast<double>(delay.count()) * 1000.0 *
                                                scale));
  auto executor = co_await net::this_coro::executor;
  SteadyTimer timer(executor);
  constexpr std::chrono::microseconds kSlice = std::chrono::milliseconds(100);
  while (remaining.count() > 0) {
    if (state.cancel != nullptr && state.cancel->cancelled) {
      co_return false;
    }
    const auto step = std::min(remaining, kSlice);
    timer.expires_after(step);
    auto waited = co_await timer.async_wait(kUseTuple);
    (void)waited;
    remaining -= step;
  }
  co_return state.cancel == nullptr || !state.cancel->cancelled;
}

// The tries of one leaf: the first, then retries as `retry` allows.
Awaitable<Attempt> tryWithRetries(RequestState& state,
                                  const ProviderAdapter& adapter,
                                  const LeafRequest& leaf,
                                  const Target& target,
                                  const RetrySettings& retry,
                                  const std::string& option_index) {
  std::chrono::milliseconds waited{0};
  Attempt attempt;
  for (int retries = 0;; ++retries) {
    AttemptInfo info{target.provider, observedText(leaf.model()), option_index, retries,
                     Clock::now()};
    info.span_id = telemetry::newSpanId(state.worker.random);
    state.worker.observers.attemptStarted(state.info, info);
    attempt = co_await runAttempt(state, adapter, leaf, target, info);
    attempt.option_index = option_index;
    info.failure = attempt.failure;
    info.error_type = attempt.error_type;
    state.worker.observers.attemptEnded(state.info, info);
    routing::AttemptOutcome outcome;
    outcome.status = attempt.reply.status;
    outcome.network_error = attempt.network_error;
    outcome.final = attempt.gateway_exception || attempt.reply.client_gone;
    outcome.headers = &attempt.reply.headers;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto decision =
        routing::decideRetry(retry, retries, outcome, waited, unit(state.worker.random));
    if (!decision.retry) {
      attempt.retry_count = decision.reported_count;
      break;
    }
    state.worker.observers.retrying(state.info, info, decision.delay);
    const bool client_here = co_await waitBeforeRetry(state, decision.delay);
    waited += decision.delay;
    if (!client_here) {
      attempt.reply.client_gone = true;
      attempt.retry_count = retries;
      break;
    }
  }
  co_return attempt;
}

// The leaf's answer: from the response cache when it holds one, else from the upstream, with
// retries (and stored in the cache).
Awaitable<Attempt> cachedOrCalled(RequestState& state,
                                  const ProviderAdapter& adapter,
                                  const LeafRequest& leaf,
                                  const Target& target,
                                  const routing::Inherited& settings,
                                  std::string option_index) {
  const auto cache = planCache(state, leaf, target, settings.cache);
  std::string cache_status = "DISABLED";
  if (cache) {
    cache_status = state.ctx.cache_force_refresh ? "REFRESH" : "MISS";
    if (!state.ctx.cache_force_refresh) {
      auto hit = co_await cachedAttempt(state, *cache);
      if (hit) {
        state.worker.observers.cacheLooked(state.info, "HIT");
        hit->option_index = std::move(option_index);
        hit->reply.model = leaf.model();
        co_return std::move(*hit);
      }
    }
    state.worker.observers.cacheLooked(state.info, cache_status);
  }
  Attempt attempt = co_await tryWithRetries(state, adapter, leaf, target,
                                            settings.retry.value_or(RetrySettings{}), option_index);
  attempt.cache_status = cache_status;
  attempt.reply.model = leaf.model();
  if (cache) {
    storeAttempt(state, *cache, attempt);
  }
  co_return attempt;
}

// A virtual key pays for a complete answer now and for a stream once it ends (the gateway
// settles it with the final usage). A call cut short after it was sent (the client hung up, a
// timeout) pays its reservation: the provider may have generated, and billed, all of it. A
// call the provider refused, or that never left, gives the reservation back.
void settleKey(std::unique_ptr<KeyTicket> ticket, Attempt& attempt, std::string_view model) {
  if (!ticket) {
    return;
  }
  const bool answered = attempt.reply.status >= 200 && attempt.reply.status < 300;
  if (attempt.cache_status == "HIT") {
    ticket->settle(Usage{0, 0}, model);  // nothing was spent upstream: a request only
  } else if (answered && attempt.reply.stream) {
    attempt.key_ticket = std::move(ticket);
  } else if (answered) {
    ticket->settle(attempt.reply.usage, model);
  } else if (attempt.reply.client_gone || attempt.reply.status == 408 ||
             attempt.reply.status == 504) {
    ticket->settle(std::nullopt, model);
  }
}

// A virtual key's own config, walked in place of the leaf that named the key, once: a target
// without provider or key of its own (a settings-only config) is the key itself.
Awaitable<Attempt> walkKeyConfig(RequestState& state,
                                 const nlohmann::json& config,
                                 std::string virtual_key,
                                 const routing::Inherited& settings,
                                 std::string option_index) {
  auto node = parseConfig(config.dump(), state.worker.route_options.config);
  if (!node) {
    co_return fromError(node.error(), std::move(option_index));
  }
  if (node->targets.empty() && node->provider.empty() && !node->virtual_key) {
    node->virtual_key = std::move(virtual_key);
  }
  state.in_key_config = true;
  Attempt attempt = co_await walkPlan(state, *node, settings, std::move(option_index));
  state.in_key_config = false;
  co_return attempt;
}

}  // namespace

Awaitable<Attempt> callLeaf(RequestState& state,
                            const ConfigNode& node,
                            const routing::Inherited& settings,
                            std::string option_index) {
  Target target = routing::resolveTarget(node, settings, state.ctx);
  const std::string virtual_key = target.option("virtual_key");
  auto grant = resolveVirtualKey(state.worker, target, state.in_key_config);
  if (!grant) {
    co_return fromError(grant.error(), std::move(option_index));
  }
  if (!state.in_key_config) {
    // The leaf that answers names the key (a fallback past a keyed target is not that key's).
    state.info.virtual_key = *grant ? std::string(observedText((*grant)->name())) : "";
  }
  if (*grant && (*grant)->config() != nullptr && !state.in_key_config) {
    co_return co_await walkKeyConfig(state, *(*grant)->config(), virtual_key, settings,
                                     std::move(option_index));
  }
  const auto* adapter = state.worker.registry.find(target.provider);
  if (adapter == nullptr) {
    // A gateway error, like an unsupported endpoint: it ends a fallback chain.
    GatewayError unknown = errors::failure(500, "Provider " + target.provider + " not found");
    unknown.gateway_exception = true;
    co_return fromError(unknown, std::move(option_index));
  }
  const LeafRequest leaf(state, target);
  // The Responses and Messages APIs go through the provider's chat completions where the
  // provider does not speak them itself (for this model).
  const Endpoint endpoint = state.request.endpoint;
  std::optional<apis::ChatTranslatedAdapter> translated;
  if (!adapter->supports(endpoint) || !adapter->servesNatively(endpoint, leaf.model())) {
    if (!apis::translatesThroughChat(endpoint) || !adapter->supports(Endpoint::kChatCompletions)) {
      co_return fromError(errors::unsupportedEndpoint(endpointName(endpoint), target.provider),
                          std::move(option_index));
    }
    adapter = &translated.emplace(*adapter, endpoint);
  }
  if (endpoint == Endpoint::kPassthrough && state.request.path == "/messages/count_tokens" &&
      !adapter->countsMessageTokens()) {
    co_return fromError(errors::failure(400, "count_tokens is not supported by " + target.provider +
                                                 ": it has no Anthropic token counter"),
                        std::move(option_index));
  }
  if (auto ready = co_await resolveCredentials(state.worker, *adapter, target, state.cancel);
      !ready) {
    co_return fromError(ready.error(), std::move(option_index));
  }
  std::unique_ptr<KeyTicket> ticket;
  if (*grant) {
    auto admitted = (*grant)->admit(leaf.model(), leaf.body(), state.request.body.size());
    if (!admitted) {
      co_return fromError(admitted.error(), std::move(option_index));
    }
    ticket = std::move(*admitted);
    if (state.worker.redis) {
      auto refused = co_await ticket->reserveShared(state.worker.redis);
      if (refused) {
        co_return fromError(*refused, std::move(option_index));
      }
    }
  }
  Attempt attempt =
      co_await cachedOrCalled(state, *adapter, leaf, target, settings, std::move(option_index));
  settleKey(std::move(ticket), attempt, leaf.model());
  co_return attempt;
}

}  // namespace portico::proxy
