#include "telemetry/metrics_observer.hpp"

#include <algorithm>

#include "telemetry/metric_labels.hpp"

namespace portico::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t micros(Clock::duration elapsed) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  return us > 0 ? static_cast<std::uint64_t>(us) : 0;
}

// An upstream (a client-chosen custom host, even) reports whatever counts it likes: one answer
// adds at most a billion tokens and a million dollars, so the counters cannot wrap.
constexpr std::int64_t kMaxTokensPerAnswer = 1'000'000'000;
constexpr double kMaxUsdPerAnswer = 1e6;

std::uint64_t tokens(const std::optional<std::int64_t>& count) {
  return count && *count > 0 ? static_cast<std::uint64_t>(std::min(*count, kMaxTokensPerAnswer))
                             : 0;
}

}  // namespace

MetricsObserver::MetricsObserver(MetricsSettings settings)
    : settings_(std::move(settings)),
      models_(settings_.max_models),
      keys_(settings_.max_virtual_keys) {}

// A model becomes a label value once an upstream answered it with a 2xx; before that (a
// client's invented name, a 404) it counts under "other", so junk cannot use up the cap.
std::uint32_t MetricsObserver::modelId(std::string_view model, int status) {
  return status >= 200 && status < 300 ? models_.idOf(model) : models_.existingId(model);
}

std::uint64_t MetricsObserver::modelKey(std::string_view provider,
                                        std::string_view model,
                                        int status) {
  return seriesKey(0, providers_.idOf(provider), modelId(model, status), 0);
}

void MetricsObserver::requestStarted(const RequestInfo& request) {
  if (request.gateway_route) {
    store_.local().scalars[kRequestsInFlight].fetch_add(1, std::memory_order_relaxed);
  }
}

void MetricsObserver::upstreamAnswered(const RequestInfo&, const AttemptInfo& attempt) {
  observeMicros(store_.local().upstream_duration,
                modelKey(attempt.provider, attempt.model, attempt.status),
                micros(Clock::now() - attempt.started));
}

void MetricsObserver::attemptEnded(const RequestInfo&, const AttemptInfo& attempt) {
  Shard& shard = store_.local();
  const std::uint32_t provider = providers_.idOf(attempt.provider);
  // Why the attempt failed wins over the status of a header that came before the failure.
  const std::string_view outcome = !attempt.error_type.empty() ? attempt.error_type
                                   : attempt.status > 0
                                       ? statusClassLabel(statusClass(attempt.status))
                                       : std::string_view("gateway");
  shard.attempts.add(seriesKey(outcomes_.idOf(outcome), provider, 0, 0), 0, 1);
  if (attempt.error_type == "timeout") {
    shard.provider_events.add(seriesKey(0, provider, 0, 0), kTimeouts, 1);
  }
}

void MetricsObserver::retrying(const RequestInfo&,
                               const AttemptInfo& attempt,
                               std::chrono::milliseconds) {
  store_.local().provider_events.add(seriesKey(0, providers_.idOf(attempt.provider), 0, 0),
                                     kRetries, 1);
}

void MetricsObserver::fellBack(const RequestInfo&,
                               std::string_view from_provider,
                               std::string_view,
                               int) {
  store_.local().provider_events.add(seriesKey(0, providers_.idOf(from_provider), 0, 0), kFallbacks,
                                     1);
}

void MetricsObserver::cacheLooked(const RequestInfo&, std::string_view status) {
  store_.local().scalars[status == "HIT" ? kCacheHits : kCacheMisses].fetch_add(
      1, std::memory_order_relaxed);
}

void MetricsObserver::streamStarted(const RequestInfo& request, const RequestOutcome& answer) {
  Shard& shard = store_.local();
  shard.scalars[kStreamsInFlight].fetch_add(1, std::memory_order_relaxed);
  if (request.first_byte != Clock::time_point{}) {
    observeMicros(shard.first_token, modelKey(answer.provider, answer.model, answer.status),
                  micros(request.first_byte - request.started));
  }
}

void MetricsObserver::requestEnded(const RequestInfo& request, const RequestOutcome& outcome) {
  if (!request.gateway_route) {
    return;
  }
  Shard& shard = store_.local();
  const auto endpoint = static_cast<std::uint32_t>(request.endpoint);
  const std::uint32_t provider = providers_.idOf(outcome.provider);
  const std::uint32_t model = modelId(outcome.model, outcome.status);
  const std::uint32_t key = keys_.idOf(request.virtual_key);
  shard.requests.add(seriesKey(endpoint * 8 + statusClass(outcome.status), provider, model, key), 0,
                     1);
  observeMicros(shard.request_duration, seriesKey(endpoint, provider, model, 0),
                micros(outcome.ended - request.started));
  // A cached answer spent nothing upstream: no tokens, no cost.
  if (outcome.usage && !outcome.usage->empty() && outcome.cache_status != "HIT") {
    const Usage& usage = *outcome.usage;
    if (auto* cells = shard.tokens.cells(seriesKey(0, provider, model, key))) {
      (*cells)[kInput].fetch_add(tokens(usage.prompt_tokens), std::memory_order_relaxed);
      (*cells)[kOutput].fetch_add(tokens(usage.completion_tokens), std::memory_order_relaxed);
      (*cells)[kCachedInput].fetch_add(tokens(usage.cached_tokens), std::memory_order_relaxed);
      (*cells)[kReasoning].fetch_add(tokens(usage.reasoning_tokens), std::memory_order_relaxed);
      if (settings_.cost) {
        const double usd = std::min(settings_.cost(outcome.model, usage), kMaxUsdPerAnswer);
        if (usd > 0) {  // false for NaN too
          (*cells)[kCostNanoUsd].fetch_add(static_cast<std::uint64_t>(usd * 1e9),
                                           std::memory_order_relaxed);
        }
      }
    }
  }
  shard.scalars[kRequestsInFlight].fetch_sub(1, std::memory_order_relaxed);
  if (outcome.streamed) {
    shard.scalars[kStreamsInFlight].fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace portico::telemetry
