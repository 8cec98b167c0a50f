#include "proxy/request_pipeline.hpp"

#include "portico/json_parse.hpp"
#include "proxy/plan_walk.hpp"

namespace portico::proxy {
namespace {

using nlohmann::json;

bool isAcceptedContentType(std::string_view content_type) {
  const std::string media = mediaType(content_type);
  return media == "application/json" || media == "multipart/form-data" ||
         media.starts_with("audio/");
}

// The body as JSON: an object for the JSON endpoints (else the client's 400), whatever JSON it
// is for passthrough (null when none or not JSON: passthrough forwards what it was given).
Expected<json> readBody(const GatewayRequest& request) {
  if (request.endpoint != Endpoint::kPassthrough) {
    json body = parseJson(request.body);
    if (body.is_discarded() || !body.is_object()) {
      const char* problem = !body.is_discarded() ? "the body must be a JSON object"
                            : jsonDepthWithin(request.body)
                                ? "the body is not valid JSON"
                                : "the body nests arrays or objects more than 128 levels deep";
      return errors::invalidJsonBody(problem);
    }
    return body;
  }
  const bool json_body =
      mediaType(findHeader(request.headers, "content-type").value_or("application/json")) ==
      "application/json";
  if (!json_body || request.body.empty()) {
    return json();
  }
  json body = parseJson(request.body);
  return body.is_discarded() ? json() : std::move(body);
}

// Portkey's answer headers: which provider answered, after how many retries, from which option
// of the config, whether from the cache; and the trace id on every answer.
void setAnswerHeaders(Attempt& attempt, const std::string& trace_id) {
  auto& headers = attempt.reply.headers;
  if (!attempt.gateway_exception) {
    if (!attempt.reply.provider.empty()) {
      setHeader(headers, "x-portkey-provider", attempt.reply.provider);
    }
    setHeader(headers, "x-portkey-retry-attempt-count", std::to_string(attempt.retry_count));
    setHeader(headers, "x-portkey-last-used-option-index", attempt.option_index);
    setHeader(headers, "x-portkey-cache-status", attempt.cache_status);
  }
  setHeader(headers, "x-portkey-trace-id", trace_id);
}

}  // namespace

Awaitable<Attempt> runPipeline(WorkerContext& worker,
                               const GatewayRequest& request,
                               CancelToken* cancel,
                               RequestInfo& info,
                               std::string& trace_id) {
  if (auto content_type = findHeader(request.headers, "content-type");
      content_type && !content_type->empty() && !isAcceptedContentType(*content_type)) {
    co_return fromError(errors::invalidContentType(), "");
  }
  if (worker.virtual_keys != nullptr && worker.virtual_keys->required() &&
      !findHeader(request.headers, "x-portkey-virtual-key") &&
      !findHeader(request.headers, "x-portkey-config")) {
    // Nothing here could name a virtual key: refused before the provider headers are read.
    co_return fromError(errors::virtualKeyRequired(), "");
  }
  auto ctx = parseRouteContext(request.headers, worker.route_options);
  if (!ctx) {
    co_return fromError(ctx.error(), "");
  }
  trace_id = ctx->trace_id;
  info.trace_id = observedText(trace_id);
  auto body = readBody(request);
  if (!body) {
    Attempt attempt = fromError(body.error(), "");
    setHeader(attempt.reply.headers, "x-portkey-trace-id", trace_id);
    co_return attempt;
  }
  RequestState state{worker, request, *ctx, *body, cancel, info};
  Attempt attempt = co_await walkPlan(state, ctx->config, routing::Inherited{}, "config");
  setAnswerHeaders(attempt, trace_id);
  co_return attempt;
}

}  // namespace portico::proxy
