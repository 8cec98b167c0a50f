#include "proxy/attempt.hpp"

#include <algorithm>

#include "http/answer_headers.hpp"
#include "portico/content_encoding.hpp"
#include "portico/openai_wire.hpp"
#include "proxy/provider_steps.hpp"
#include "proxy/request_parts.hpp"
#include "proxy/upstream_failure.hpp"
#include "telemetry/trace_context.hpp"

namespace portico::proxy {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Content types of streamed answers: SSE, AWS event streams, NDJSON.
bool isEventStream(std::string_view content_type) {
  const std::string media = mediaType(content_type);
  return media == "text/event-stream" || media == "application/vnd.amazon.eventstream" ||
         media == "application/x-ndjson";
}

std::chrono::microseconds since(Clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
}

std::string_view errorType(upstream::FailureKind kind) {
  switch (kind) {
    case upstream::FailureKind::kDeadline:
    case upstream::FailureKind::kReadTimeout:
      return "timeout";
    case upstream::FailureKind::kConnect:
      return "connect";
    case upstream::FailureKind::kBroken:
      return "broken";
    case upstream::FailureKind::kTooLarge:
      return "too_large";
    case upstream::FailureKind::kCancelled:
      return "cancelled";
    case upstream::FailureKind::kRefused:
      return "refused";
  }
  return "other";
}

// The trace context goes upstream: this attempt's span as the parent when tracing is on, else
// the caller's own traceparent passed through.
void propagateTrace(const RequestState& state,
                    const AttemptInfo& info,
                    const HeaderList& client_headers,
                    UpstreamRequest& request) {
  const TraceContext& trace = state.info.trace;
  if (state.worker.options.trace_sampler) {
    setHeader(request.headers, "traceparent",
              telemetry::formatTraceparent(trace.trace_id, info.span_id, trace.sampled));
  } else if (auto incoming = findHeader(client_headers, "traceparent");
             incoming && telemetry::parseTraceparent(*incoming)) {
    setHeader(request.headers, "traceparent", std::string(*incoming));
  } else {
    return;
  }
  // tracestate is opaque to us: passed on only when it is short printable ASCII, so that a
  // client's odd bytes cannot make the upstream client refuse the request.
  const bool printable = std::all_of(trace.tracestate.begin(), trace.tracestate.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!trace.tracestate.empty() && trace.tracestate.size() <= 512 && printable) {
    setHeader(request.headers, "tracestate", std::string(trace.tracestate));
  }
}

Attempt failedAttempt(const upstream::Failure& failure, const Target& target) {
  Attempt attempt;
  attempt.reply = errorReply(failureError(failure, target));
  attempt.reply.provider = target.provider;
  attempt.reply.client_gone = failure.kind == upstream::FailureKind::kCancelled;
  attempt.network_error = isNetworkFailure(failure.kind);
  attempt.failure = failure.detail;
  attempt.error_type = errorType(failure.kind);
  return attempt;
}

Attempt erroredAttempt(const GatewayError& error, const Target& target) {
  Attempt attempt = fromError(error, "");
  attempt.reply.provider = target.provider;
  attempt.error_type = "gateway";  // refused here: no answer of the upstream's reached the client
  return attempt;
}

// A request the provider takes in parts: every part sent, the answers joined.
Awaitable<Attempt> sendParts(RequestState& state,
                             const ProviderAdapter& adapter,
                             ProviderCall& call,
                             std::vector<json> parts,
                             const LeafRequest& leaf,
                             const Target& target,
                             std::optional<Clock::time_point> deadline) {
  auto outcome = co_await callParts(state.worker, adapter, call, leaf.client(), target,
                                    std::move(parts), deadline);
  Attempt attempt;
  if (outcome.failure) {
    attempt = failedAttempt(*outcome.failure, target);
  } else {
    attempt.reply.status = outcome.response.status;
    attempt.reply.content_type = std::move(outcome.response.content_type);
    attempt.reply.body = std::move(outcome.response.body);
    attempt.reply.usage = outcome.response.usage;
  }
  attempt.reply.provider = target.provider;
  attempt.reply.upstream_time = outcome.upstream_time;
  attempt.reply.client_gone = state.cancel != nullptr && state.cancel->cancelled;
  co_return attempt;
}

// A 2xx streamed answer: its first piece is read before answering the client.
Awaitable<Attempt> streamedAttempt(RequestState& state,
                                   ProviderCall& call,
                                   std::unique_ptr<upstream::Exchange> exchange,
                                   const LeafRequest& leaf,
                                   const Target& target,
                                   AttemptInfo& info,
                                   Clock::time_point started) {
  Attempt attempt;
  std::string first_bytes;
  if (auto failure = co_await exchange->readSome(first_bytes)) {
    co_return failedAttempt(*failure, target);
  }
  state.info.first_byte = Clock::now();
  state.worker.observers.firstByte(state.info, info);
  auto transformer = makeTransformer(call, target);
  if (!transformer) {
    co_return erroredAttempt(transformer.error(), target);
  }
  auto& reply = attempt.reply;
  reply.status = exchange->status();
  reply.headers = edge::passOnAnswerHeaders(exchange->headerList());
  reply.provider = target.provider;
  reply.first_bytes = std::move(first_bytes);
  reply.transformer = std::move(*transformer);
  const std::string content_type = exchange->contentType();
  reply.content_type =
      reply.transformer || content_type.empty() ? "text/event-stream" : content_type;
  const Endpoint endpoint = leaf.client().endpoint;
  reply.openai_stream =
      !reply.transformer &&
      (endpoint == Endpoint::kChatCompletions || endpoint == Endpoint::kCompletions) &&
      mediaType(reply.content_type) == "text/event-stream";
  reply.stream = std::move(exchange);
  reply.upstream_time = since(started);
  co_return attempt;
}

// A complete answer: read whole (bounded, decompressed when the upstream insisted), then mapped.
Awaitable<Attempt> completeAttempt(RequestState& state,
                                   ProviderCall& call,
                                   std::unique_ptr<upstream::Exchange> exchange,
                                   const Target& target,
                                   AttemptInfo& info,
                                   Clock::time_point started) {
  std::string body;
  upstream::BufferLease lease(state.worker.buffer_budget);
  const auto limit = state.worker.options.max_upstream_body_bytes;
  auto failure = co_await exchange->readAll(body, limit, &lease);
  if (failure) {
    co_return failedAttempt(*failure, target);
  }
  const auto coding = parseContentEncoding(exchange->contentEncoding());
  if (coding != ContentCoding::kIdentity) {
    std::string decoded;
    std::string problem;
    if (!decodeContent(coding, body, limit, decoded, problem) || !lease.growTo(decoded.size())) {
      co_return erroredAttempt(
          errors::upstreamUnreachable(target.provider,
                                      problem.empty() ? "upstream answer too large" : problem),
          target);
    }
    body = std::move(decoded);
  }
  Attempt attempt;
  attempt.reply.headers = edge::passOnAnswerHeaders(exchange->headerList());
  MappedResponse mapped = mapAnswer(call, target,
                                    UpstreamReply{exchange->status(), exchange->contentType(),
                                                  std::move(body), attempt.reply.headers});
  attempt.reply.status = mapped.status;
  attempt.reply.content_type = std::move(mapped.content_type);
  attempt.reply.body = std::move(mapped.body);
  attempt.reply.usage = mapped.usage;
  attempt.reply.provider = target.provider;
  attempt.reply.upstream_time = since(started);
  attempt.reply.buffered = std::move(lease);
  info.usage = attempt.reply.usage;
  co_return attempt;
}

}  // namespace

LeafRequest::LeafRequest(const RequestState& state, const Target& target) {
  const GatewayRequest& request = state.request;
  client_.endpoint = request.endpoint;
  client_.method = request.method;
  client_.path = request.path;
  client_.query = request.query;
  client_.headers = &request.headers;
  client_.raw_body = request.body;
  if (!state.body.is_object()) {
    return;
  }
  client_.body = &state.body;
  if (target.override_params.is_object() && !target.override_params.empty()) {
    merged_ = state.body;
    for (const auto& [key, value] : target.override_params.items()) {
      merged_[key] = value;
    }
    client_.body = &merged_;
    client_.body_modified = true;
  }
  auto stream = client_.body->find("stream");
  client_.stream = stream != client_.body->end() && stream->is_boolean() && stream->get<bool>();
  model_ = openai::stringField(client_.body, "model");
}

Attempt fromError(const GatewayError& error, std::string option_index) {
  Attempt attempt;
  attempt.reply = errorReply(error);
  attempt.gateway_exception = error.gateway_exception;
  attempt.option_index = std::move(option_index);
  return attempt;
}

Awaitable<Attempt> runAttempt(RequestState& state,
                              const ProviderAdapter& adapter,
                              const LeafRequest& leaf,
                              const Target& target,
                              AttemptInfo& info) {
  std::optional<Clock::time_point> deadline;
  if (target.request_timeout_ms) {
    deadline = Clock::now() + std::chrono::milliseconds(*target.request_timeout_ms);
  }
  auto call = openCall(adapter, leaf.client(), target);
  if (!call) {
    co_return erroredAttempt(call.error(), target);
  }
  if (auto parts = splitParts(**call); !parts.empty()) {
    Attempt attempt =
        co_await sendParts(state, adapter, **call, std::move(parts), leaf, target, deadline);
    info.status = attempt.failure.empty() ? attempt.reply.status : 0;
    info.usage = attempt.reply.usage;
    co_return attempt;
  }
  auto built = buildUpstream(**call, target);
  if (!built) {
    co_return erroredAttempt(built.error(), target);
  }
  propagateTrace(state, info, state.request.headers, *built);
  const auto started = Clock::now();
  auto result = co_await state.worker.client.start(*built, deadline, state.cancel);
  if (auto* failure = std::get_if<upstream::Failure>(&result)) {
    co_return failedAttempt(*failure, target);
  }
  auto exchange = std::move(std::get<std::unique_ptr<upstream::Exchange>>(result));
  info.status = exchange->status();
  state.worker.observers.upstreamAnswered(state.info, info);
  const bool success = info.status >= 200 && info.status < 300;
  if (!success || !(leaf.client().stream || isEventStream(exchange->contentType()))) {
    co_return co_await completeAttempt(state, **call, std::move(exchange), target, info, started);
  }
  if (parseContentEncoding(exchange->contentEncoding()) != ContentCoding::kIdentity) {
    // A compressed stream cannot be relayed event by event, nor sent on as it is (its
    // Content-Encoding is not passed on): refuse it.
    co_return erroredAttempt(
        errors::upstreamUnreachable(
            target.provider,
            "the upstream compressed its stream despite Accept-Encoding: identity"),
        target);
  }
  co_return co_await streamedAttempt(state, **call, std::move(exchange), leaf, target, info,
                                     started);
}

}  // namespace portico::proxy
