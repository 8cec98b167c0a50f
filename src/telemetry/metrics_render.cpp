// MetricsObserver::render: the shards summed into Prometheus' text format.
#include <openssl/opensslv.h>

#include <algorithm>
#include <boost/version.hpp>
#include <map>

#include "telemetry/connection_counts.hpp"
#include "telemetry/exposition.hpp"
#include "telemetry/metric_labels.hpp"
#include "telemetry/metrics_observer.hpp"
#include "telemetry/process_metrics.hpp"

namespace portico::telemetry {
namespace {

template <std::size_t Cells>
using Summed = std::map<std::uint64_t, std::array<std::uint64_t, Cells>>;

template <std::size_t Cells, class Table>
Summed<Cells> sum(const std::vector<const Shard*>& shards, Table Shard::*table) {
  Summed<Cells> totals;
  for (const Shard* shard : shards) {
    (shard->*table).forEach([&](std::uint64_t key, const std::array<std::uint64_t, Cells>& v) {
      auto& total = totals[key];
      for (std::size_t i = 0; i < Cells; ++i) {
        total[i] += v[i];
      }
    });
  }
  return totals;
}

std::int64_t sumScalar(const std::vector<const Shard*>& shards, Scalar which) {
  std::int64_t total = 0;
  for (const Shard* shard : shards) {
    total += shard->scalars[which].load(std::memory_order_relaxed);
  }
  return total;
}

constexpr std::array<double, kBucketMicros.size()> bucketSeconds() {
  std::array<double, kBucketMicros.size()> seconds{};
  for (std::size_t i = 0; i < kBucketMicros.size(); ++i) {
    seconds[i] = static_cast<double>(kBucketMicros[i]) / 1e6;
  }
  return seconds;
}

void histograms(Exposition& out,
                std::string_view name,
                const Summed<kHistogramCells>& series,
                bool with_endpoint,
                LabelValues& providers,
                LabelValues& models) {
  static constexpr auto kBounds = bucketSeconds();
  for (const auto& [key, cells] : series) {
    const double sum = static_cast<double>(cells[kHistogramCells - 1]) / 1e6;
    const auto provider = providers.nameOf(keyPart(key, 1));
    const auto model = models.nameOf(keyPart(key, 2));
    if (with_endpoint) {
      out.histogram(name,
                    {{"endpoint", endpointLabel(static_cast<Endpoint>(keyPart(key, 0)))},
                     {"provider", provider},
                     {"model", model}},
                    cells.data(), kBounds.data(), kBounds.size(), sum);
    } else {
      out.histogram(name, {{"provider", provider}, {"model", model}}, cells.data(), kBounds.data(),
                    kBounds.size(), sum);
    }
  }
}

void connectionGauges(Exposition& out) {
  const ConnectionTotals totals = sumConnectionCounts();
  out.family("portico_client_connections", "gauge", "Client connections open now.");
  out.sample("portico_client_connections", {}, totals.client_open);
  out.family("portico_client_connections_accepted_total", "counter",
             "Client connections accepted.");
  out.sample("portico_client_connections_accepted_total", {}, totals.client_accepted);
  out.family("portico_upstream_connections", "gauge",
             "Upstream connections now: active (carrying a request) and idle in the pools.");
  out.sample("portico_upstream_connections", {{"state", "active"}},
             std::max<std::int64_t>(0, totals.upstream_open - totals.upstream_idle));
  out.sample("portico_upstream_connections", {{"state", "idle"}}, totals.upstream_idle);
  out.family("portico_upstream_connections_created_total", "counter",
             "Upstream connections opened (TCP, and TLS where the upstream is https).");
  out.sample("portico_upstream_connections_created_total", {}, totals.upstream_created);
}

}  // namespace

std::string MetricsObserver::render() const {
  std::string text;
  text.reserve(16 * 1024);
  Exposition out(text);
  const auto shards = store_.shards();

  out.family("portico_requests_total", "counter",
             "Gateway requests answered, by endpoint, provider, model, status class and "
             "virtual key.");
  for (const auto& [key, cells] : sum<1>(shards, &Shard::requests)) {
    const std::uint32_t head = keyPart(key, 0);
    out.sample("portico_requests_total",
               {{"endpoint", endpointLabel(static_cast<Endpoint>(head / 8))},
                {"provider", providers_.nameOf(keyPart(key, 1))},
                {"model", models_.nameOf(keyPart(key, 2))},
                {"status_class", statusClassLabel(head % 8)},
                {"virtual_key", keys_.nameOf(keyPart(key, 3))}},
               cells[0]);
  }
  out.family("portico_request_duration_seconds", "histogram",
             "Time from a request's arrival to the last byte of its answer.");
  histograms(out, "portico_request_duration_seconds",
             sum<kHistogramCells>(shards, &Shard::request_duration), true, providers_, models_);
  out.family("portico_upstream_duration_seconds", "histogram",
             "Time from sending an attempt upstream to the upstream's answer header.");
  histograms(out, "portico_upstream_duration_seconds",
             sum<kHistogramCells>(shards, &Shard::upstream_duration), false, providers_, models_);
  out.family("portico_time_to_first_token_seconds", "histogram",
             "Time from a streamed request's arrival to the first bytes of its stream.");
  histograms(out, "portico_time_to_first_token_seconds",
             sum<kHistogramCells>(shards, &Shard::first_token), false, providers_, models_);

  const auto token_series = sum<kTokenCells>(shards, &Shard::tokens);
  out.family("portico_tokens_total", "counter",
             "Tokens the providers reported, by type: input (cached included), output "
             "(reasoning included), cached_input, reasoning.");
  static constexpr std::array<std::pair<TokenCell, std::string_view>, 4> kTypes = {
      {{kInput, "input"},
       {kOutput, "output"},
       {kCachedInput, "cached_input"},
       {kReasoning, "reasoning"}}};
  for (const auto& [key, cells] : token_series) {
    for (const auto& [cell, type] : kTypes) {
      out.sample("portico_tokens_total",
                 {{"provider", providers_.nameOf(keyPart(key, 1))},
                  {"model", models_.nameOf(keyPart(key, 2))},
                  {"virtual_key", keys_.nameOf(keyPart(key, 3))},
                  {"type", type}},
                 cells[cell]);
    }
  }
  if (settings_.cost) {
    out.family("portico_estimated_cost_usd_total", "counter",
               "Estimated cost in US dollars from the price table (0 for unpriced models).");
    for (const auto& [key, cells] : token_series) {
      out.sample("portico_estimated_cost_usd_total",
                 {{"provider", providers_.nameOf(keyPart(key, 1))},
                  {"model", models_.nameOf(keyPart(key, 2))},
                  {"virtual_key", keys_.nameOf(keyPart(key, 3))}},
                 static_cast<double>(cells[kCostNanoUsd]) / 1e9);
    }
  }

  out.family("portico_upstream_attempts_total", "counter",
             "Tries at an upstream, by provider and outcome (status class, or why no answer "
             "came: timeout, connect, broken, too_large, cancelled, refused).");
  for (const auto& [key, cells] : sum<1>(shards, &Shard::attempts)) {
    out.sample("portico_upstream_attempts_total",
               {{"provider", providers_.nameOf(keyPart(key, 1))},
                {"outcome", outcomes_.nameOf(keyPart(key, 0))}},
               cells[0]);
  }
  const auto events = sum<kProviderCells>(shards, &Shard::provider_events);
  static constexpr std::array<std::tuple<ProviderCell, std::string_view, std::string_view>, 3>
      kEvents = {{{kRetries, "portico_retries_total", "Retries of a failed attempt."},
                  {kFallbacks, "portico_fallbacks_total",
                   "Fallbacks past a failed target, by the provider that failed."},
                  {kTimeouts, "portico_upstream_timeouts_total",
                   "Attempts that ran out of time (request_timeout or upstream silence)."}}};
  for (const auto& [cell, name, help] : kEvents) {
    out.family(name, "counter", help);
    for (const auto& [key, cells] : events) {
      out.sample(name, {{"provider", providers_.nameOf(keyPart(key, 1))}}, cells[cell]);
    }
  }

  out.family("portico_cache_hits_total", "counter", "Response cache lookups that hit.");
  out.sample("portico_cache_hits_total", {}, sumScalar(shards, kCacheHits));
  out.family("portico_cache_misses_total", "counter",
             "Response cache lookups that missed (or were told to refresh).");
  out.sample("portico_cache_misses_total", {}, sumScalar(shards, kCacheMisses));
  out.family("portico_requests_in_flight", "gauge", "Gateway requests being served now.");
  out.sample("portico_requests_in_flight", {}, sumScalar(shards, kRequestsInFlight));
  out.family("portico_streams_in_flight", "gauge", "Streamed answers being relayed now.");
  out.sample("portico_streams_in_flight", {}, sumScalar(shards, kStreamsInFlight));
  connectionGauges(out);
  std::uint64_t dropped = 0;
  for (const Shard* shard : shards) {
    dropped += shard->droppedSeries();
  }
  out.family("portico_metric_series_dropped_total", "counter",
             "Counts lost because their series table had no room (should stay 0).");
  out.sample("portico_metric_series_dropped_total", {}, dropped);

  out.family("portico_build_info", "gauge",
             "Portico's version and the libraries it was built with.");
  out.sample("portico_build_info",
             {{"version", PORTICO_VERSION},
              {"boost", BOOST_LIB_VERSION},
              {"openssl", OPENSSL_VERSION_STR}},
             std::int64_t{1});
  for (const auto& append : settings_.extra) {
    append(text);
  }
  appendProcessMetrics(out);
  return text;
}

}  // namespace portico::telemetry
