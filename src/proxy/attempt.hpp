#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "portico/observer.hpp"
#include "portico/route_context.hpp"
#include "proxy/reply.hpp"
#include "proxy/worker_context.hpp"

namespace portico::proxy {

// One gateway request's state through the plan walk.
struct RequestState {
  WorkerContext& worker;
  const GatewayRequest& request;
  const RouteContext& ctx;
  const nlohmann::json& body;  // null when the body is not JSON
  CancelToken* cancel;
  RequestInfo& info;  // what observers see of the request
  // Inside a virtual key's own config: keys it names do not expand theirs, and its targets
  // (the operator's) may carry credentials even when the gateway requires virtual keys.
  bool in_key_config = false;
};

// The client request as one leaf's target sees it, derived once for all its tries (and for its
// cache key): override_params merged into the body, the stream flag, the model.
class LeafRequest {
 public:
  LeafRequest(const RequestState& state, const Target& target);
  LeafRequest(const LeafRequest&) = delete;
  LeafRequest& operator=(const LeafRequest&) = delete;

  const ClientRequest& client() const { return client_; }
  const nlohmann::json& body() const { return client_.body ? *client_.body : null_; }
  const std::string& model() const { return model_; }

 private:
  ClientRequest client_;
  nlohmann::json merged_;  // the body with override_params, when there are any
  nlohmann::json null_;
  std::string model_;
};

// The outcome of one node of the routing plan.
struct Attempt {
  Reply reply;
  bool gateway_exception = false;
  std::string option_index;  // "config", "config.targets[1]", ...
  int retry_count = 0;
  // The upstream was unreachable or dropped the connection before answering (retried whatever
  // the retry status list says).
  bool network_error = false;
  std::string failure;                    // why no upstream answer came, for observers
  std::string_view error_type;            // its kind (AttemptInfo::error_type)
  std::string cache_status = "DISABLED";  // x-portkey-cache-status
  // A virtual key's reservation, for a stream until its final usage is known (null: none).
  std::unique_ptr<KeyTicket> key_ticket;
};

// An attempt that ended before reaching an upstream.
Attempt fromError(const GatewayError& error, std::string option_index);

// One try at `target`: opens the provider call, builds and authenticates the upstream request,
// sends it, and reads the answer: the first piece of a 2xx stream (until a byte reaches the
// client, a broken upstream can still be retried), or the whole body, mapped. Reports
// upstreamAnswered and firstByte; `info` gets the status, failure and usage.
Awaitable<Attempt> runAttempt(RequestState& state,
                              const ProviderAdapter& adapter,
                              const LeafRequest& leaf,
                              const Target& target,
                              AttemptInfo& info);

}  // namespace portico::proxy
