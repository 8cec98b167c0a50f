#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "portico/endpoint.hpp"
#include "portico/usage.hpp"

namespace portico {

// Client-chosen text (a model name, a trace id) as observers see it: cut to a bound, so that no
// log line, label, span or console row holds a client's megabytes.
constexpr std::size_t kMaxObservedText = 256;
inline std::string_view observedText(std::string_view text) {
  return text.substr(0, kMaxObservedText);
}

// W3C trace context of one request (https://www.w3.org/TR/trace-context/): the client's
// traceparent continued, or a new trace. Ids are random; all zero means unset.
struct TraceContext {
  std::array<std::uint8_t, 16> trace_id{};
  std::uint64_t span_id = 0;         // the gateway's server span for this request
  std::uint64_t parent_span_id = 0;  // the caller's span, from its traceparent (0: none)
  bool parent_sampled = false;       // the caller's traceparent had the sampled flag
  bool sampled = false;              // this request's spans are recorded and exported
  std::string_view tracestate;       // the caller's tracestate, passed on upstream
};

// What observers learn about a request while it runs. Strings are views into the request's own
// state: valid for the duration of the call only; an observer copies what it keeps.
struct RequestInfo {
  std::string_view method;
  std::string_view path;  // without the query
  Endpoint endpoint = Endpoint::kPassthrough;
  bool gateway_route = false;  // a /v1 route (false: /, /health, 404)
  std::string_view trace_id;   // x-portkey-trace-id; "" until the route context is read
  std::chrono::steady_clock::time_point started;
  std::chrono::system_clock::time_point wall_started;  // for exported timestamps
  TraceContext trace;
  std::string virtual_key;  // the key's name once one is resolved ("" when none)
  // When the first bytes of the latest streamed attempt arrived (unset before any did).
  std::chrono::steady_clock::time_point first_byte{};
};

// One try at one target: the first call or a retry of a leaf of the routing plan.
struct AttemptInfo {
  std::string_view provider;
  std::string_view model;         // the body's model after override_params ("" when none)
  std::string_view option_index;  // "config", "config.targets[1]", ...
  int retry = 0;                  // 0 for the first try of this leaf
  std::chrono::steady_clock::time_point started;
  std::uint64_t span_id = 0;  // this attempt's client span, sent upstream in traceparent
  int status = 0;             // the upstream's status, once it answered (0: none)
  std::string_view failure;   // why no answer came (transport, refused, timeout), else ""
  // The failure's kind, as OpenTelemetry's error.type: "timeout", "connect", "broken",
  // "too_large", "cancelled", "refused"; "" when the upstream answered.
  std::string_view error_type;
  std::optional<Usage> usage;  // complete answers' token counts, at attemptEnded
};

// How a request ended, for requestEnded.
struct RequestOutcome {
  int status = 0;  // what the client got (499: it hung up first)
  std::string_view provider;
  std::string_view model;
  std::string_view option_index;
  std::string_view cache_status;  // "HIT", "MISS", "REFRESH", "DISABLED"
  int retry_count = 0;
  bool streamed = false;
  bool client_gone = false;
  bool stream_broken = false;  // a streamed answer ended with an error event
  std::optional<Usage> usage;  // reported by the provider, whatever the client asked for
  std::chrono::microseconds upstream_time{0};  // the last attempt, to its answer's header
  std::chrono::steady_clock::time_point ended;
  // What the answer said of itself, read only for sampled traces (else ""): its id, the model
  // that answered, and the finish reasons of its choices, comma-separated.
  std::string_view response_id;
  std::string_view response_model;
  std::string_view finish_reasons;
};

// Sees every request and attempt: the access log, and next metrics, traces, rate limits and
// budgets, each a new observer rather than an edit of the pipeline. Called on the worker's
// thread, on the request path: observers must be quick, must not block, and must be safe to
// call from every worker at once (one instance serves all of them).
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void requestStarted(const RequestInfo& /*request*/) {}
  virtual void attemptStarted(const RequestInfo& /*request*/, const AttemptInfo& /*attempt*/) {}
  // The upstream's answer header arrived (attempt.status is set).
  virtual void upstreamAnswered(const RequestInfo& /*request*/, const AttemptInfo& /*attempt*/) {}
  // The first byte of a streamed answer arrived from the upstream.
  virtual void firstByte(const RequestInfo& /*request*/, const AttemptInfo& /*attempt*/) {}
  virtual void attemptEnded(const RequestInfo& /*request*/, const AttemptInfo& /*attempt*/) {}
  // The leaf tries again after `delay`.
  virtual void retrying(const RequestInfo& /*request*/,
                        const AttemptInfo& /*attempt*/,
                        std::chrono::milliseconds /*delay*/) {}
  // A fallback node moves past its target `from_index` (of `from_provider`, "" when it never
  // reached one), which ended with `status`.
  virtual void fellBack(const RequestInfo& /*request*/,
                        std::string_view /*from_provider*/,
                        std::string_view /*from_index*/,
                        int /*status*/) {}
  // A cache lookup answered ("HIT") or missed.
  virtual void cacheLooked(const RequestInfo& /*request*/, std::string_view /*status*/) {}
  // A 2xx stream starts going to the client (it ends with requestEnded, outcome.streamed).
  // `answer` says who answers it (status, provider, model); request.first_byte is when its
  // first bytes came, so time to first token counts once per request, whatever retries read.
  virtual void streamStarted(const RequestInfo& /*request*/, const RequestOutcome& /*answer*/) {}
  virtual void requestEnded(const RequestInfo& /*request*/, const RequestOutcome& /*outcome*/) {}
};

}  // namespace portico
