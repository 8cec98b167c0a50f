#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "proxy/worker_context.hpp"

namespace portico::proxy {

// How a request sent in parts (ProviderAdapter::splitRequest) went: the joined answer, or the
// first part (in order) that failed: a transport failure, or the mapped non-2xx answer.
struct PartsOutcome {
  std::optional<upstream::Failure> failure;
  MappedResponse response;
  std::chrono::microseconds upstream_time{0};
};

// Sends every part (each its own provider call), at most a few at a time on this worker, and
// joins the 2xx answers with call.joinResponses() (`call` is the whole request's). Parts are not
// cancelled one by one when the client hangs up; each is bounded by `deadline` and the read
// timeout, and the caller checks the client afterwards.
Awaitable<PartsOutcome> callParts(WorkerContext& worker,
                                  const ProviderAdapter& adapter,
                                  ProviderCall& call,
                                  const ClientRequest& request,
                                  const Target& target,
                                  std::vector<nlohmann::json> parts,
                                  std::optional<std::chrono::steady_clock::time_point> deadline);

}  // namespace portico::proxy
