#include "proxy/response_cache_glue.hpp"

#include "portico/json_parse.hpp"
#include "redis/redis_client.hpp"

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

namespace {

// Entries past this are not sent to Redis: a shared cache is for answers, not archives.
constexpr std::size_t kMaxSharedEntryBytes = 4 * 1024 * 1024;

std::string sharedCacheKey(const CachePlan& plan) { return "portico:cache:" + plan.key; }

// Redis holds an entry as one JSON object; what it gives back is checked like any input.
std::optional<routing::CachedResponse> readSharedEntry(const redis::Reply& reply) {
  if (reply.type != redis::Reply::Type::kString || reply.text.size() > kMaxSharedEntryBytes) {
    return std::nullopt;
  }
  const json entry = json::parse(reply.text, nullptr, false);
  if (!entry.is_object() || !member(entry, "status").is_number_integer() ||
      !member(entry, "body").is_string()) {
    return std::nullopt;
  }
  routing::CachedResponse value;
  value.status = entry["status"].get<int>();
  value.body = entry["body"].get<std::string>();
  if (const json& type = member(entry, "content_type"); type.is_string()) {
    value.content_type = type.get<std::string>();
  }
  if (const json& provider = member(entry, "provider"); provider.is_string()) {
    value.provider = provider.get<std::string>();
  }
  if (value.status < 200 || value.status >= 300) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Awaitable<std::optional<Attempt>> cachedAttempt(const RequestState& state, const CachePlan& plan) {
  std::optional<routing::CachedResponse> hit;
  if (state.worker.redis) {
    // A Redis that does not answer is a miss, never an error.
    std::vector<std::string> get{std::string("GET"), sharedCacheKey(plan)};
    auto reply = co_await state.worker.redis->call(std::move(get));
    if (reply) {
      hit = readSharedEntry(*reply);
    }
  } else {
    hit = state.worker.cache->get(plan.key);
  }
  if (!hit) {
    co_return std::nullopt;
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
  co_return attempt;
}

void storeAttempt(const RequestState& state, const CachePlan& plan, const Attempt& attempt) {
  const auto& reply = attempt.reply;
  if (plan.stream || reply.stream || reply.status < 200 || reply.status >= 300 ||
      attempt.gateway_exception) {
    return;
  }
  if (state.worker.redis) {
    if (reply.body.size() > kMaxSharedEntryBytes) {
      return;
    }
    const json entry = {{"status", reply.status},
                        {"content_type", reply.content_type},
                        {"provider", reply.provider},
                        {"body", reply.body}};
    std::string text;
    try {
      text = entry.dump();  // strict: a body that is not UTF-8 is not stored, not rewritten
    } catch (const json::exception&) {
      return;
    }
    if (text.size() > kMaxSharedEntryBytes) {
      return;  // what the reader would refuse
    }
    const auto max_age_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(plan.max_age).count();
    state.worker.redis->send({"SET", sharedCacheKey(plan), std::move(text), "PX",
                              std::to_string(std::max<long long>(max_age_ms, 1))});
    return;
  }
  state.worker.cache->put(
      plan.key,
      routing::CachedResponse{reply.status, reply.content_type, reply.body, reply.provider},
      plan.max_age);
}

}  // namespace portico::proxy
