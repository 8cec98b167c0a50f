#include "proxy/forwarder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "routing/target_resolver.hpp"

namespace portico::proxy {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string lowerMediaType(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  std::string_view media = content_type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  std::string out(media);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool isAcceptedContentType(std::string_view content_type) {
  std::string media = lowerMediaType(content_type);
  return media == "application/json" || media == "multipart/form-data" ||
         media.starts_with("audio/");
}

bool isEventStream(std::string_view content_type) {
  std::string media = lowerMediaType(content_type);
  return media == "text/event-stream" || media == "application/vnd.amazon.eventstream" ||
         media == "application/x-ndjson";
}

// Upstream response headers that describe the upstream connection or body encoding, or that
// would leak the provider's session state to clients; everything else is passed on.
bool isDroppedResponseHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kDropped = {
      "connection", "keep-alive",     "transfer-encoding", "content-length",
      "content-encoding", "content-type", "set-cookie",  "server",
      "date",       "alt-svc",        "strict-transport-security"};
  return name.starts_with("x-portkey-") ||
         std::find(kDropped.begin(), kDropped.end(), name) != kDropped.end();
}

HeaderList passOnHeaders(const http::fields& upstream_headers) {
  HeaderList out;
  for (const auto& field : upstream_headers) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!isDroppedResponseHeader(name)) {
      out.emplace_back(std::move(name), std::string(field.value()));
    }
  }
  return out;
}

GatewayError failureError(const upstream::Failure& failure,
                          const Target& target,
                          std::string_view provider) {
  switch (failure.kind) {
    case upstream::FailureKind::kDeadline:
      return errors::requestTimeout(target.request_timeout_ms.value_or(0));
    case upstream::FailureKind::kReadTimeout:
      return errors::upstreamTimeout(provider);
    case upstream::FailureKind::kConnect:
    case upstream::FailureKind::kBroken:
    case upstream::FailureKind::kTooLarge:
    case upstream::FailureKind::kCancelled:
      break;
  }
  return errors::upstreamUnreachable(provider, failure.detail);
}

// The outcome of one node of the routing plan.
struct Attempt {
  Reply reply;
  bool gateway_exception = false;
  std::string option_index;  // "config", "config.targets[1]", ...
  int retry_count = 0;
};

Attempt fromError(const GatewayError& error, std::string option_index) {
  Attempt attempt;
  attempt.reply = errorReply(error);
  attempt.gateway_exception = error.gateway_exception;
  attempt.option_index = std::move(option_index);
  return attempt;
}

struct RequestState {
  WorkerContext& worker;
  const GatewayRequest& request;
  const RouteContext& ctx;
  const json& body;  // null when the body is not JSON
  upstream::CancelToken* cancel;
};

Awaitable<Attempt> callTarget(RequestState& state, Target target, std::string option_index) {
  const auto* adapter = state.worker.registry.find(target.provider);
  if (adapter == nullptr) {
    co_return fromError(errors::failure(500, "Provider " + target.provider + " not found"),
                        option_index);
  }
  if (!adapter->supports(state.request.endpoint)) {
    co_return fromError(
        errors::unsupportedEndpoint(endpointName(state.request.endpoint), target.provider),
        option_index);
  }
  if (!target.option("virtual_key").empty()) {
    co_return fromError(errors::failure(400,
                                        "Virtual keys are not configured on this gateway: pass "
                                        "the provider key with x-portkey-api-key or api_key"),
                        option_index);
  }

  ClientRequest client_request;
  client_request.endpoint = state.request.endpoint;
  client_request.method = state.request.method;
  client_request.path = state.request.path;
  client_request.query = state.request.query;
  client_request.headers = &state.request.headers;
  client_request.raw_body = state.request.body;
  json merged;
  if (state.body.is_object()) {
    client_request.body = &state.body;
    if (target.override_params.is_object() && !target.override_params.empty()) {
      merged = state.body;
      for (const auto& [key, value] : target.override_params.items()) {
        merged[key] = value;
      }
      client_request.body = &merged;
      client_request.body_modified = true;
    }
    auto stream = client_request.body->find("stream");
    client_request.stream = stream != client_request.body->end() && stream->is_boolean() &&
                            stream->get<bool>();
  }

  Expected<UpstreamRequest> built = [&]() -> Expected<UpstreamRequest> {
    try {
      return adapter->buildRequest(client_request, target);
    } catch (const std::exception& e) {
      // Adapters may use nlohmann's throwing accessors; a body of the wrong shape lands here.
      return errors::failure(400, std::string("Invalid request for ") + target.provider + ": " +
                                      e.what());
    }
  }();
  if (!built) {
    co_return fromError(built.error(), option_index);
  }

  std::optional<Clock::time_point> deadline;
  if (target.request_timeout_ms) {
    deadline = Clock::now() + std::chrono::milliseconds(*target.request_timeout_ms);
  }
  const auto started = Clock::now();
  auto started_result = co_await state.worker.client.start(built.value(), deadline, state.cancel);

  Attempt attempt;
  attempt.option_index = option_index;
  attempt.reply.provider = target.provider;
  if (auto* failure = std::get_if<upstream::Failure>(&started_result)) {
    attempt.reply = errorReply(failureError(*failure, target, target.provider));
    attempt.reply.provider = target.provider;
    attempt.reply.client_gone = failure->kind == upstream::FailureKind::kCancelled;
    co_return attempt;
  }
  auto exchange = std::move(std::get<std::unique_ptr<upstream::Exchange>>(started_result));
  const int status = exchange->status();
  std::string content_type(exchange->headers()[http::field::content_type]);
  attempt.reply.headers = passOnHeaders(exchange->headers());

  if (status >= 200 && status < 300 && (client_request.stream || isEventStream(content_type))) {
    attempt.reply.status = status;
    attempt.reply.transformer = adapter->makeStreamTransformer(client_request, target);
    attempt.reply.content_type =
        attempt.reply.transformer || content_type.empty() ? "text/event-stream" : content_type;
    attempt.reply.stream = std::move(exchange);
    attempt.reply.upstream_time =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    co_return attempt;
  }

  std::string body;
  auto failure = co_await exchange->readAll(body, state.worker.options.max_upstream_body_bytes);
  attempt.reply.upstream_time =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  if (failure) {
    attempt.reply = errorReply(failureError(*failure, target, target.provider));
    attempt.reply.provider = target.provider;
    attempt.reply.client_gone = failure->kind == upstream::FailureKind::kCancelled;
    co_return attempt;
  }
  MappedResponse mapped;
  try {
    mapped = adapter->mapResponse(client_request, target,
                                  UpstreamReply{status, std::move(content_type), std::move(body)});
  } catch (const std::exception& e) {
    mapped = MappedResponse{502, "application/json",
                            errors::providerError(502, target.provider,
                                                  std::string("unexpected response: ") + e.what())
                                .body.dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  attempt.reply.status = mapped.status;
  attempt.reply.content_type = std::move(mapped.content_type);
  attempt.reply.body = std::move(mapped.body);
  co_return attempt;
}

Awaitable<Attempt> executeNode(RequestState& state,
                               const ConfigNode& node,
                               routing::Inherited inherited,
                               std::string option_index);

// Whether a fallback node should move on to its next target after `attempt`.
bool shouldFallBack(const ConfigNode& node, const Attempt& attempt) {
  if (attempt.gateway_exception || attempt.reply.client_gone) {
    return false;
  }
  const int status = attempt.reply.status;
  if (!node.strategy_on_status_codes.empty()) {
    return std::find(node.strategy_on_status_codes.begin(), node.strategy_on_status_codes.end(),
                     status) != node.strategy_on_status_codes.end();
  }
  return status < 200 || status >= 300;
}

Awaitable<Attempt> executeNode(RequestState& state,
                               const ConfigNode& node,
                               routing::Inherited inherited,
                               std::string option_index) {
  if (node.isLeaf()) {
    Target target = routing::resolveTarget(node, inherited, state.ctx);
    co_return co_await callTarget(state, std::move(target), std::move(option_index));
  }
  routing::Inherited mine = routing::inherit(inherited, node);
  auto child_index = [&](std::size_t i) {
    return option_index + ".targets[" + std::to_string(i) + "]";
  };
  if (node.targets.empty()) {
    co_return fromError(errors::failure(400, "Invalid config passed: no targets"), option_index);
  }
  if (node.mode == "fallback") {
    Attempt last;
    for (std::size_t i = 0; i < node.targets.size(); ++i) {
      last = co_await executeNode(state, node.targets[i], mine, child_index(i));
      if (!shouldFallBack(node, last)) {
        break;
      }
    }
    co_return last;
  }
  if (node.mode == "loadbalance") {
    double total = 0;
    for (const auto& child : node.targets) {
      total += std::max(0.0, child.weight);
    }
    if (total <= 0) {
      co_return fromError(errors::failure(400,
                                          "Invalid config passed: every loadbalance target has "
                                          "weight 0, so none can be chosen"),
                          option_index);
    }
    std::uniform_real_distribution<double> pick(0.0, total);
    double point = pick(state.worker.random);
    std::size_t chosen = node.targets.size() - 1;
    for (std::size_t i = 0; i < node.targets.size(); ++i) {
      double weight = std::max(0.0, node.targets[i].weight);
      if (weight > 0 && point < weight) {
        chosen = i;
        break;
      }
      point -= weight;
    }
    while (node.targets[chosen].weight <= 0 && chosen > 0) {
      --chosen;  // rounding at the end of the range must never pick a weight-0 target
    }
    co_return co_await executeNode(state, node.targets[chosen], mine, child_index(chosen));
  }
  // "single" and anything the validator let through: the first target.
  co_return co_await executeNode(state, node.targets[0], mine, child_index(0));
}

}  // namespace

Reply errorReply(const GatewayError& error) {
  Reply reply;
  reply.status = error.status;
  reply.content_type = "application/json";
  reply.body = error.body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (error.gateway_exception) {
    reply.headers.emplace_back("x-portkey-gateway-exception", "true");
  }
  return reply;
}

Awaitable<Reply> forward(WorkerContext& worker, GatewayRequest request,
                         upstream::CancelToken* cancel) {
  if (auto content_type = findHeader(request.headers, "content-type");
      content_type && !content_type->empty() && !isAcceptedContentType(*content_type)) {
    co_return errorReply(errors::invalidContentType());
  }
  auto ctx = parseRouteContext(request.headers, worker.route_options);
  if (!ctx) {
    co_return errorReply(ctx.error());
  }

  json body;
  const bool json_body =
      lowerMediaType(findHeader(request.headers, "content-type").value_or("application/json")) ==
      "application/json";
  if (request.endpoint != Endpoint::kPassthrough) {
    body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      Reply reply = errorReply(errors::invalidJsonBody(
          body.is_discarded() ? "the body is not valid JSON" : "the body must be a JSON object"));
      reply.trace_id = ctx->trace_id;
      reply.headers.emplace_back("x-portkey-trace-id", ctx->trace_id);
      co_return reply;
    }
  } else if (json_body && !request.body.empty()) {
    body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
      body = nullptr;  // passthrough forwards whatever it was given
    }
  }

  RequestState state{worker, request, ctx.value(), body, cancel};
  const std::string root_index = "config";
  Attempt attempt = co_await executeNode(state, ctx->config, routing::Inherited{}, root_index);

  Reply reply = std::move(attempt.reply);
  reply.trace_id = ctx->trace_id;
  if (!attempt.gateway_exception) {
    setHeader(reply.headers, "x-portkey-provider", reply.provider);
    setHeader(reply.headers, "x-portkey-retry-attempt-count", std::to_string(attempt.retry_count));
    setHeader(reply.headers, "x-portkey-last-used-option-index", attempt.option_index);
    setHeader(reply.headers, "x-portkey-cache-status", "DISABLED");
  }
  setHeader(reply.headers, "x-portkey-trace-id", ctx->trace_id);
  co_return reply;
}

}  // namespace portico::proxy
