#include "proxy/request_parts.hpp"

#include <algorithm>
#include <string>

#include "proxy/provider_steps.hpp"

namespace portico::proxy {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Parts in flight at once for one request: enough to overlap round trips, few enough that one
// client's 2,000-input batch does not open 2,000 upstream connections.
constexpr std::size_t kMaxPartsInFlight = 8;

struct PartResult {
  std::optional<upstream::Failure> failure;
  std::optional<MappedResponse> response;  // set when the part was answered (any status)
};

// What the lanes share. Everything runs on one worker thread, so no lock.
struct PartsRun {
  WorkerContext& worker;
  const ProviderAdapter& adapter;
  const ClientRequest& request;
  const Target& target;
  std::vector<json> bodies;
  std::optional<Clock::time_point> deadline;
  std::vector<PartResult> results;
  std::size_t next = 0;
  std::size_t lanes_running = 0;
  bool stop = false;  // a part failed: start no more
  SteadyTimer* all_done = nullptr;
};

bool isSuccess(int status) { return status >= 200 && status < 300; }

Awaitable<PartResult> callPart(PartsRun* run, std::size_t index) {
  ClientRequest part = run->request;
  const std::string raw = run->bodies[index].dump();
  part.body = &run->bodies[index];
  part.raw_body = raw;
  part.body_modified = true;
  part.stream = false;
  PartResult result;
  auto call = openCall(run->adapter, part, run->target);
  if (!call) {
    result.response = errorAnswer(call.error());
    co_return result;
  }
  auto built = buildUpstream(**call, run->target);
  if (!built) {
    result.response = errorAnswer(built.error());
    co_return result;
  }
  auto started = co_await run->worker.client.start(built.value(), run->deadline, nullptr);
  if (auto* failure = std::get_if<upstream::Failure>(&started)) {
    result.failure = *failure;
    co_return result;
  }
  auto exchange = std::move(std::get<std::unique_ptr<upstream::Exchange>>(started));
  std::string body;
  upstream::BufferLease lease(run->worker.buffer_budget);
  auto failure =
      co_await exchange->readAll(body, run->worker.options.max_upstream_body_bytes, &lease);
  if (failure) {
    result.failure = *failure;
    co_return result;
  }
  result.response = mapAnswer(**call, run->target,
                              UpstreamReply{exchange->status(), exchange->contentType(),
                                            std::move(body), exchange->headerList()});
  co_return result;
}

// One lane: takes the next part until none is left or one has failed.
Awaitable<void> runLane(PartsRun* run) {
  while (!run->stop && run->next < run->bodies.size()) {
    const std::size_t index = run->next++;
    auto result = co_await callPart(run, index);
    if (result.failure || !result.response || !isSuccess(result.response->status)) {
      run->stop = true;
    }
    run->results[index] = std::move(result);
  }
}

}  // namespace

Awaitable<PartsOutcome> callParts(WorkerContext& worker,
                                  const ProviderAdapter& adapter,
                                  ProviderCall& call,
                                  const ClientRequest& request,
                                  const Target& target,
                                  std::vector<nlohmann::json> parts,
                                  std::optional<Clock::time_point> deadline) {
  const auto started = Clock::now();
  auto executor = co_await net::this_coro::executor;
  SteadyTimer all_done(executor, Clock::time_point::max());
  PartsRun run{worker, adapter, request, target, std::move(parts), deadline};
  run.results.resize(run.bodies.size());
  run.all_done = &all_done;
  const std::size_t lanes = std::min(kMaxPartsInFlight, run.bodies.size());
  run.lanes_running = lanes;
  for (std::size_t i = 0; i < lanes; ++i) {
    net::co_spawn(executor, runLane(&run), [&run](std::exception_ptr) {
      if (--run.lanes_running == 0) {
        run.all_done->cancel();
      }
    });
  }
  while (run.lanes_running > 0) {
    auto waited = co_await all_done.async_wait(kUseTuple);
    (void)waited;
  }

  PartsOutcome outcome;
  outcome.upstream_time =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  // The first part in order that failed decides; lanes stop starting parts after a failure, so
  // parts were left unsent only when one failed.
  for (auto& result : run.results) {
    if (result.failure) {
      outcome.failure = std::move(result.failure);
      co_return outcome;
    }
    if (result.response && !isSuccess(result.response->status)) {
      outcome.response = std::move(*result.response);
      co_return outcome;
    }
  }
  std::vector<MappedResponse> answers;
  answers.reserve(run.results.size());
  for (auto& result : run.results) {
    answers.push_back(std::move(*result.response));
  }
  outcome.response = joinParts(call, target, std::move(answers));
  co_return outcome;
}

}  // namespace portico::proxy
