#include "proxy/forwarder.hpp"

#include <algorithm>
#include <array>

#include "portico/content_encoding.hpp"
#include "portico/json_parse.hpp"
#include "proxy/request_parts.hpp"
#include "routing/conditions.hpp"
#include "routing/fallback_policy.hpp"
#include "routing/load_balancer.hpp"
#include "routing/response_cache.hpp"
#include "routing/retry_policy.hpp"
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
  static constexpr std::array<std::string_view, 11> kDropped = {"connection",
                                                                "keep-alive",
                                                                "transfer-encoding",
                                                                "content-length",
                                                                "content-encoding",
                                                                "content-type",
                                                                "set-cookie",
                                                                "server",
                                                                "date",
                                                                "alt-svc",
                                                                "strict-transport-security"};
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
    case upstream::FailureKind::kRefused:
      return errors::failure(400, std::string(provider) + ": " + failure.detail);
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
  // The upstream was unreachable or dropped the connection before answering (retried whatever
  // the retry status list says).
  bool network_error = false;
  std::string cache_status = "DISABLED";  // x-portkey-cache-status
};

bool isNetworkFailure(upstream::FailureKind kind) {
  return kind == upstream::FailureKind::kConnect || kind == upstream::FailureKind::kBroken;
}

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

// The token an adapter asked for: from this worker's cache, or fetched from its endpoint.
Awaitable<Expected<std::string>> fetchToken(RequestState& state,
                                            const ProviderAdapter& adapter,
                                            const Target& target,
                                            const std::string& cache_key) {
  constexpr auto kRefreshMargin = std::chrono::seconds(60);
  constexpr std::size_t kMaxCachedTokens = 1024;
  auto& cache = state.worker.token_cache;
  const auto now = Clock::now();
  if (auto it = cache.find(cache_key); it != cache.end() && it->second.valid_until > now) {
    co_return it->second.token;
  }
  auto made = adapter.tokenExchange(target, std::chrono::system_clock::now());
  if (!made) {
    co_return made.error();
  }
  TokenExchange exchange = std::move(*made);
  exchange.cache_key = cache_key;
  const std::string provider(adapter.id());
  const auto& request = exchange.request;
  // The token URL can come from client-supplied credentials: same SSRF guard as custom hosts.
  const std::string origin = request.scheme + "://" + request.host + ":" + request.port;
  const auto& is_valid = state.worker.route_options.config.is_valid_custom_host;
  if (!is_valid || !is_valid(origin)) {
    co_return errors::failure(
        400, provider + ": the token endpoint " + origin + " is refused by the custom-host guard");
  }
  UpstreamRequest guarded = request;
  guarded.check_address = true;
  auto started =
      co_await state.worker.client.start(guarded, now + std::chrono::seconds(30), state.cancel);
  if (auto* failure = std::get_if<upstream::Failure>(&started)) {
    if (failure->kind == upstream::FailureKind::kRefused) {
      co_return errors::failure(400, provider + ": token endpoint: " + failure->detail);
    }
    co_return errors::upstreamUnreachable(provider, "token endpoint: " + failure->detail);
  }
  auto token_exchange = std::move(std::get<std::unique_ptr<upstream::Exchange>>(started));
  std::string body;
  upstream::BufferLease lease(state.worker.buffer_budget);
  auto failure = co_await token_exchange->readAll(body, 1024 * 1024, &lease);
  if (failure) {
    co_return errors::upstreamUnreachable(provider, "token endpoint: " + failure->detail);
  }
  const int status = token_exchange->status();
  std::string content_type(token_exchange->headers()[http::field::content_type]);
  auto token = adapter.parseTokenReply(UpstreamReply{status, content_type, std::move(body)});
  if (!token) {
    co_return token.error();
  }
  if (cache.size() >= kMaxCachedTokens) {
    cache.clear();
  }
  const auto lifetime = std::max(std::chrono::seconds(0), token->expires_in - kRefreshMargin);
  cache[exchange.cache_key] = {token->token, now + lifetime};
  co_return token->token;
}

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
  if (target.api_key.empty()) {
    if (auto key = adapter->tokenCacheKey(target)) {
      auto token = co_await fetchToken(state, *adapter, target, *key);
      if (!token) {
        co_return fromError(token.error(), option_index);
      }
      target.api_key = std::move(token.value());
    }
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
    client_request.stream =
        stream != client_request.body->end() && stream->is_boolean() && stream->get<bool>();
  }

  std::optional<Clock::time_point> deadline;
  if (target.request_timeout_ms) {
    deadline = Clock::now() + std::chrono::milliseconds(*target.request_timeout_ms);
  }
  std::vector<json> parts;
  try {
    if (auto call = adapter->open(client_request, target)) {
      parts = (*call)->splitRequest();
    }
  } catch (const std::exception&) {
    // A body of the wrong shape: buildRequest() below reports it.
  }
  if (!parts.empty()) {
    auto outcome = co_await callParts(state.worker, *adapter, client_request, target,
                                      std::move(parts), deadline);
    Attempt attempt;
    attempt.option_index = option_index;
    if (outcome.failure) {
      attempt.reply = errorReply(failureError(*outcome.failure, target, target.provider));
      attempt.network_error = isNetworkFailure(outcome.failure->kind);
    } else {
      attempt.reply.status = outcome.response.status;
      attempt.reply.content_type = std::move(outcome.response.content_type);
      attempt.reply.body = std::move(outcome.response.body);
    }
    attempt.reply.provider = target.provider;
    attempt.reply.upstream_time = outcome.upstream_time;
    attempt.reply.client_gone = state.cancel != nullptr && state.cancel->cancelled;
    co_return attempt;
  }

  Expected<UpstreamRequest> built = [&]() -> Expected<UpstreamRequest> {
    try {
      return adapter->buildRequest(client_request, target);
    } catch (const std::exception& e) {
      // Adapters may use nlohmann's throwing accessors; a body of the wrong shape lands here.
      return errors::failure(
          400, std::string("Invalid request for ") + target.provider + ": " + e.what());
    }
  }();
  if (!built) {
    co_return fromError(built.error(), option_index);
  }
  built->check_address = !target.custom_host.empty();
  const auto started = Clock::now();
  auto started_result = co_await state.worker.client.start(built.value(), deadline, state.cancel);

  Attempt attempt;
  attempt.option_index = option_index;
  attempt.reply.provider = target.provider;
  if (auto* failure = std::get_if<upstream::Failure>(&started_result)) {
    attempt.reply = errorReply(failureError(*failure, target, target.provider));
    attempt.reply.provider = target.provider;
    attempt.reply.client_gone = failure->kind == upstream::FailureKind::kCancelled;
    attempt.network_error = isNetworkFailure(failure->kind);
    co_return attempt;
  }
  auto exchange = std::move(std::get<std::unique_ptr<upstream::Exchange>>(started_result));
  const int status = exchange->status();
  std::string content_type(exchange->headers()[http::field::content_type]);
  attempt.reply.headers = passOnHeaders(exchange->headers());

  const auto coding = parseContentEncoding(exchange->headers()[http::field::content_encoding]);
  const bool streamed =
      status >= 200 && status < 300 && (client_request.stream || isEventStream(content_type));
  if (streamed && coding != ContentCoding::kIdentity) {
    // A compressed stream cannot be relayed event by event, nor sent on as it is (its
    // Content-Encoding is not passed on): refuse it.
    attempt.reply = errorReply(errors::upstreamUnreachable(
        target.provider, "the upstream compressed its stream despite Accept-Encoding: identity"));
    attempt.reply.provider = target.provider;
    co_return attempt;
  }
  if (streamed) {
    // Read the first piece before answering: until a byte has reached the client, an upstream
    // that breaks can still be retried or fall back to the next target.
    std::string first_bytes;
    if (auto failure = co_await exchange->readSome(first_bytes)) {
      attempt.reply = errorReply(failureError(*failure, target, target.provider));
      attempt.reply.provider = target.provider;
      attempt.reply.client_gone = failure->kind == upstream::FailureKind::kCancelled;
      attempt.network_error = isNetworkFailure(failure->kind);
      co_return attempt;
    }
    attempt.reply.first_bytes = std::move(first_bytes);
    attempt.reply.status = status;
    try {
      attempt.reply.transformer = adapter->makeStreamTransformer(client_request, target);
    } catch (const std::exception& e) {
      // A client body of the wrong shape (adapters may use nlohmann's throwing accessors).
      attempt.reply = errorReply(errors::failure(
          400, std::string("Invalid request for ") + target.provider + ": " + e.what()));
      attempt.reply.provider = target.provider;
      co_return attempt;
    }
    attempt.reply.content_type =
        attempt.reply.transformer || content_type.empty() ? "text/event-stream" : content_type;
    attempt.reply.openai_stream = !attempt.reply.transformer &&
                                  (client_request.endpoint == Endpoint::kChatCompletions ||
                                   client_request.endpoint == Endpoint::kCompletions) &&
                                  lowerMediaType(attempt.reply.content_type) == "text/event-stream";
    attempt.reply.stream = std::move(exchange);
    attempt.reply.upstream_time =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    co_return attempt;
  }

  std::string body;
  upstream::BufferLease lease(state.worker.buffer_budget);
  const auto limit = state.worker.options.max_upstream_body_bytes;
  auto failure = co_await exchange->readAll(body, limit, &lease);
  attempt.reply.upstream_time =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  if (failure) {
    attempt.reply = errorReply(failureError(*failure, target, target.provider));
    attempt.reply.provider = target.provider;
    attempt.reply.client_gone = failure->kind == upstream::FailureKind::kCancelled;
    attempt.network_error = isNetworkFailure(failure->kind);
    co_return attempt;
  }
  if (coding != ContentCoding::kIdentity) {
    std::string decoded;
    std::string problem;
    if (!decodeContent(coding, body, limit, decoded, problem) || !lease.growTo(decoded.size())) {
      attempt.reply = errorReply(errors::upstreamUnreachable(
          target.provider, problem.empty() ? "upstream answer too large" : problem));
      attempt.reply.provider = target.provider;
      co_return attempt;
    }
    body = std::move(decoded);
  }
  MappedResponse mapped;
  try {
    mapped = adapter->mapResponse(
        client_request, target,
        UpstreamReply{status, std::move(content_type), std::move(body), attempt.reply.headers});
  } catch (const std::exception& e) {
    mapped = MappedResponse{
        502, "application/json",
        errors::providerError(502, target.provider, std::string("unexpected response: ") + e.what())
            .body.dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  attempt.reply.status = mapped.status;
  attempt.reply.content_type = std::move(mapped.content_type);
  attempt.reply.body = std::move(mapped.body);
  attempt.reply.buffered = std::move(lease);
  co_return attempt;
}

// Waits `delay` (scaled by options.retry_delay_scale) before a retry, in short slices so a
// client that hangs up is noticed. Returns false when the client went away.
Awaitable<bool> waitBeforeRetry(RequestState& state, std::chrono::milliseconds delay) {
  const double scale = std::max(0.0, state.worker.options.retry_delay_scale);
  auto remaining = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::duration<double, std::micro>(static_cast<double>(delay.count()) * 1000.0 *
                                                scale));
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  constexpr std::chrono::microseconds kSlice = std::chrono::milliseconds(100);
  while (remaining.count() > 0) {
    if (state.cancel != nullptr && state.cancel->cancelled) {
      co_return false;
    }
    const auto step = std::min(remaining, kSlice);
    timer.expires_after(step);
    auto waited = co_await timer.async_wait(kUseTuple);
    (void)waited;
    remaining -= step;
  }
  co_return state.cancel == nullptr || !state.cancel->cancelled;
}

// The cache entry a leaf may use: only for JSON endpoints with a JSON body, when the leaf's
// (inherited) `cache.mode` is "simple". The key ignores `stream` so a streamed request can be
// served from a stored complete answer.
struct CachePlan {
  std::string key;
  std::chrono::seconds max_age = routing::kDefaultCacheMaxAge;
  bool stream = false;
};

std::optional<CachePlan> planCache(const RequestState& state,
                                   const Target& target,
                                   const std::optional<CacheSettings>& settings) {
  if (state.worker.cache == nullptr || !settings || settings->mode != "simple" ||
      state.request.endpoint == Endpoint::kPassthrough || !state.body.is_object()) {
    return std::nullopt;
  }
  json body = state.body;
  if (target.override_params.is_object()) {
    for (const auto& [key, value] : target.override_params.items()) {
      body[key] = value;
    }
  }
  CachePlan plan;
  if (auto it = body.find("stream"); it != body.end()) {
    plan.stream = it->is_boolean() && it->get<bool>();
    body.erase(it);
  }
  body.erase("stream_options");
  if (plan.stream && state.request.endpoint != Endpoint::kChatCompletions) {
    return std::nullopt;  // only chat answers can be re-emitted as a stream
  }
  if (settings->max_age_s) {
    plan.max_age = std::chrono::seconds(*settings->max_age_s);
  }
  // Everything that identifies whose account answers; hashed, never stored.
  std::string credential = target.api_key;
  credential.push_back('\n');
  credential += target.options.dump(-1, ' ', false, json::error_handler_t::replace);
  credential.push_back('\n');
  credential += target.custom_host;
  plan.key = routing::responseCacheKey(target.provider, credential, state.request.path, body);
  return plan;
}

// One leaf: the cache, then the first try and its retries (`retry` inherited down the tree).
Awaitable<Attempt> callLeaf(RequestState& state,
                            const ConfigNode& node,
                            routing::Inherited inherited,
                            std::string option_index) {
  const routing::Inherited settings = routing::inherit(inherited, node);
  Target target = routing::resolveTarget(node, inherited, state.ctx);

  const auto cache = planCache(state, target, settings.cache);
  std::string cache_status = "DISABLED";
  if (cache) {
    cache_status = state.ctx.cache_force_refresh ? "REFRESH" : "MISS";
    if (!state.ctx.cache_force_refresh) {
      if (auto hit = state.worker.cache->get(cache->key)) {
        Attempt attempt;
        attempt.option_index = std::move(option_index);
        attempt.cache_status = "HIT";
        attempt.reply.provider = std::move(hit->provider);
        attempt.reply.status = hit->status;
        if (cache->stream) {
          attempt.reply.content_type = "text/event-stream";
          attempt.reply.body = routing::chatCompletionAsSse(hit->body);
        } else {
          attempt.reply.content_type = std::move(hit->content_type);
          attempt.reply.body = std::move(hit->body);
        }
        co_return attempt;
      }
    }
  }

  const RetrySettings retry = settings.retry.value_or(RetrySettings{});
  std::chrono::milliseconds waited{0};
  Attempt attempt;
  for (int retries = 0;; ++retries) {
    attempt = co_await callTarget(state, target, option_index);
    routing::AttemptOutcome outcome;
    outcome.status = attempt.reply.status;
    outcome.network_error = attempt.network_error;
    outcome.final = attempt.gateway_exception || attempt.reply.client_gone;
    outcome.headers = &attempt.reply.headers;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto decision =
        routing::decideRetry(retry, retries, outcome, waited, unit(state.worker.random));
    if (!decision.retry) {
      attempt.retry_count = decision.reported_count;
      break;
    }
    const bool client_here = co_await waitBeforeRetry(state, decision.delay);
    waited += decision.delay;
    if (!client_here) {
      attempt.reply.client_gone = true;
      attempt.retry_count = retries;
      break;
    }
  }

  attempt.cache_status = cache_status;
  // Only complete 2xx answers are stored; streamed ones pass through untouched.
  if (cache && !cache->stream && !attempt.reply.stream && attempt.reply.status >= 200 &&
      attempt.reply.status < 300 && !attempt.gateway_exception) {
    state.worker.cache->put(
        cache->key,
        routing::CachedResponse{attempt.reply.status, attempt.reply.content_type,
                                attempt.reply.body, attempt.reply.provider},
        cache->max_age);
  }
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
  return routing::fallsBack(node, attempt.reply.status);
}

Awaitable<Attempt> executeNode(RequestState& state,
                               const ConfigNode& node,
                               routing::Inherited inherited,
                               std::string option_index) {
  if (node.isLeaf()) {
    co_return co_await callLeaf(state, node, std::move(inherited), std::move(option_index));
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
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto picked = routing::pickWeighted(node.targets, unit(state.worker.random));
    if (!picked) {
      co_return fromError(errors::failure(400,
                                          "Invalid config passed: every loadbalance target has "
                                          "weight 0, so none can be chosen"),
                          option_index);
    }
    const std::size_t chosen = *picked;
    co_return co_await executeNode(state, node.targets[chosen], mine, child_index(chosen));
  }
  if (node.mode == "conditional") {
    const routing::ConditionContext context{state.ctx.metadata, state.body,
                                            "/v1" + state.request.path};
    auto chosen = routing::chooseConditionalTarget(node, context);
    if (!chosen) {
      // A router error ends the request with its 400, whatever the enclosing strategy.
      Attempt failed = fromError(chosen.error(), option_index);
      failed.gateway_exception = true;
      co_return failed;
    }
    const std::size_t index = *chosen;
    co_return co_await executeNode(state, node.targets[index], mine, child_index(index));
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

Awaitable<Reply> forward(WorkerContext& worker,
                         GatewayRequest request,
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
    body = parseJson(request.body);
    if (body.is_discarded() || !body.is_object()) {
      const char* problem = !body.is_discarded() ? "the body must be a JSON object"
                            : jsonDepthWithin(request.body)
                                ? "the body is not valid JSON"
                                : "the body nests arrays or objects more than 128 levels deep";
      Reply reply = errorReply(errors::invalidJsonBody(problem));
      reply.trace_id = ctx->trace_id;
      reply.headers.emplace_back("x-portkey-trace-id", ctx->trace_id);
      co_return reply;
    }
  } else if (json_body && !request.body.empty()) {
    body = parseJson(request.body);
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
    if (!reply.provider.empty()) {
      setHeader(reply.headers, "x-portkey-provider", reply.provider);
    }
    setHeader(reply.headers, "x-portkey-retry-attempt-count", std::to_string(attempt.retry_count));
    setHeader(reply.headers, "x-portkey-last-used-option-index", attempt.option_index);
    setHeader(reply.headers, "x-portkey-cache-status", attempt.cache_status);
  }
  setHeader(reply.headers, "x-portkey-trace-id", ctx->trace_id);
  co_return reply;
}

}  // namespace portico::proxy
