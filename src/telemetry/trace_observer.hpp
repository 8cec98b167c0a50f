#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "portico/endpoint.hpp"
#include "portico/observer.hpp"
#include "telemetry/span.hpp"

namespace portico::telemetry {

// Portkey provider id -> gen_ai.provider.name (genAiProviderName in portico/gen_ai_names.hpp;
// it lives with the providers, so main passes it in).
using ProviderNamer = std::function<std::string_view(std::string_view portkey_provider_id)>;

struct TraceObserverOptions {
  // Requests of one worker whose attempts wait for their end; past it the oldest is given up
  // (its spans counted as dropped), so a request that never ends cannot leak.
  std::size_t max_open_requests_per_thread = 4096;
  std::size_t max_attempts_per_request = 64;  // more are dropped and counted
};

// Turns each sampled request into spans, named and attributed by OpenTelemetry's HTTP and
// GenAI semantic conventions: one SERVER span (the caller's traceparent span as its parent)
// and one CLIENT span per upstream attempt (its child, with the span id sent upstream). Never
// records content, headers, keys or query strings.
//
// A stream's attempt ends before the stream does, so attempts wait in a per-thread table
// (every callback of a request runs on its worker's thread) until requestEnded, which gives
// the last one the answer's usage, response id, model and finish reasons, and for a stream its
// end time, then hands every span to the sink.
class TraceObserver : public Observer {
 public:
  TraceObserver(std::shared_ptr<SpanSink> sink,
                ProviderNamer provider_name,
                TraceObserverOptions options = {});

  void attemptEnded(const RequestInfo& request, const AttemptInfo& attempt) override;
  void requestEnded(const RequestInfo& request, const RequestOutcome& outcome) override;

 private:
  std::string_view providerName(std::string_view provider) const;

  std::shared_ptr<SpanSink> sink_;
  ProviderNamer provider_name_;
  TraceObserverOptions options_;
  std::uint64_t id_;  // names this observer's per-thread table
};

// gen_ai.operation.name of a gateway endpoint: "chat" (chat completions and messages),
// "text_completion", "embeddings"; passthrough requests are "proxy" (no well-known value fits).
std::string_view genAiOperationName(Endpoint endpoint);

}  // namespace portico::telemetry
