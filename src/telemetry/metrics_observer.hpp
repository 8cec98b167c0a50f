#pragma once

#include <functional>
#include <string>
#include <vector>

#include "portico/observer.hpp"
#include "telemetry/label_values.hpp"
#include "telemetry/metric_store.hpp"

namespace portico::telemetry {

struct MetricsSettings {
  std::size_t max_models = 100;        // distinct model label values; the rest are "other"
  std::size_t max_virtual_keys = 256;  // likewise for virtual key names
  // USD an answer of `model` cost (0 when unpriced); null: no cost metric.
  std::function<double(std::string_view model, const Usage& usage)> cost;
  // More exposition text appended to each scrape (the trace exporter's counters).
  std::vector<std::function<void(std::string& out)>> extra;
};

// Counts every request and attempt for GET /metrics: requests, durations, time to first
// token, tokens and cost, retries, fallbacks, timeouts, cache, in-flight work. Each worker
// counts into its own shard (MetricStore); render() sums them.
class MetricsObserver final : public Observer {
 public:
  explicit MetricsObserver(MetricsSettings settings);

  void requestStarted(const RequestInfo& request) override;
  void upstreamAnswered(const RequestInfo& request, const AttemptInfo& attempt) override;
  void attemptEnded(const RequestInfo& request, const AttemptInfo& attempt) override;
  void retrying(const RequestInfo& request,
                const AttemptInfo& attempt,
                std::chrono::milliseconds delay) override;
  void fellBack(const RequestInfo& request,
                std::string_view from_provider,
                std::string_view from_index,
                int status) override;
  void cacheLooked(const RequestInfo& request, std::string_view status) override;
  void streamStarted(const RequestInfo& request, const RequestOutcome& answer) override;
  void requestEnded(const RequestInfo& request, const RequestOutcome& outcome) override;

  // The Prometheus text exposition (format 0.0.4) of everything counted, the connection
  // gauges, build and process information.
  std::string render() const;

 private:
  std::uint32_t modelId(std::string_view model, int status);
  std::uint64_t modelKey(std::string_view provider, std::string_view model, int status);

  MetricsSettings settings_;
  MetricStore store_;
  mutable LabelValues providers_{128};
  mutable LabelValues models_;
  mutable LabelValues keys_;
  mutable LabelValues outcomes_{32};
};

}  // namespace portico::telemetry
