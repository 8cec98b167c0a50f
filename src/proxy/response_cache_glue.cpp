#include "proxy/response_cache_glue.hpp"

namespace portico::proxy {

using nlohmann::json;

std::optional<CachePlan> planCache(const RequestState& state,
                                   const LeafRequest& leaf,
                                   const Target& target,
                                   const std::optional<CacheSettings>& settings) {
  if (state.worker.cache == nullptr || !settings || settings->mode != "simple" ||
      state.request.endpoint == Endpoint::kPassthrough || !leaf.body().is_object()) {
    return std::nullopt;
  }
  CachePlan plan;
  plan.stream = leaf.client().stream;
  if (plan.stream && state.request.endpoint != Endpoint::kChatCompletions) {
    return std::nullopt;  // only chat answers can be re-emitted as a stream
  }
  json body = leaf.body();  // override_params already merged
  body.erase("stream");
  body.erase("stream_options");
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

std::optional<Attempt> cachedAttempt(const RequestState& state, const CachePlan& plan) {
  auto hit = state.worker.cache->get(plan.key);
  if (!hit) {
    return std::nullopt;
  }
  Attempt attempt;
  attempt.cache_status = "HIT";
  attempt.reply.provider = std::move(hit->provider);
  attempt.reply.status = hit->status;
  if (plan.stream) {
    attempt.reply.content_type = "text/event-stream";
    attempt.reply.body = routing::chatCompletionAsSse(hit->body);
  } else {
    attempt.reply.content_type = std::move(hit->content_type);
    attempt.reply.body = std::move(hit->body);
  }
  return attempt;
}

void storeAttempt(const RequestState& state, const CachePlan& plan, const Attempt& attempt) {
  const auto& reply = attempt.reply;
  if (plan.stream || reply.stream || reply.status < 200 || reply.status >= 300 ||
      attempt.gateway_exception) {
    return;
  }
  state.worker.cache->put(
      plan.key,
      routing::CachedResponse{reply.status, reply.content_type, reply.body, reply.provider},
      plan.max_age);
}

}  // namespace portico::proxy
