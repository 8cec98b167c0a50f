#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "portico/endpoint.hpp"
#include "portico/usage.hpp"

namespace portico {

// What observers learn about a request while it runs. Strings are views into the request's own
// state: valid for the duration of the call only; an observer copies what it keeps.
struct RequestInfo {
  std::string_view method;
  std::string_view path;  // without the query
  Endpoint endpoint = Endpoint::kPassthrough;
  bool gateway_route = false;  // a /v1 route (false: /, /health, 404)
  std::string_view trace_id;   // "" until the route context is read
  std::chrono::steady_clock::time_point started;
};

// One try at one target: the first call or a retry of a leaf of the routing plan.
struct AttemptInfo {
  std::string_view provider;
  std::string_view model;         // the body's model after override_params ("" when none)
  std::string_view option_index;  // "config", "config.targets[1]", ...
  int retry = 0;                  // 0 for the first try of this leaf
  std::chrono::steady_clock::time_point started;
  int status = 0;              // the upstream's status, once it answered (0: none)
  std::string_view failure;    // why no answer came (transport, refused, timeout), else ""
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
  // A cache lookup answered ("HIT") or missed.
  virtual void cacheLooked(const RequestInfo& /*request*/, std::string_view /*status*/) {}
  virtual void requestEnded(const RequestInfo& /*request*/, const RequestOutcome& /*outcome*/) {}
};

}  // namespace portico
