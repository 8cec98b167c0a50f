#include "redis/redis_health.hpp"

#include <spdlog/spdlog.h>

#include "telemetry/exposition.hpp"

namespace portico::redis {

void Health::succeeded() {
  commands_.fetch_add(1, std::memory_order_relaxed);
  // A load first: the common case writes nothing shared but the counter.
  if (!up_.load(std::memory_order_relaxed) && !up_.exchange(true)) {
    spdlog::warn("redis reachable again: shared limits, budgets and the cache are back");
  }
}

void Health::failed(std::string_view reason, std::string_view detail) {
  commands_.fetch_add(1, std::memory_order_relaxed);
  auto& counter = reason == "timeout"       ? timeouts_
                  : reason == "unavailable" ? unavailable_
                                            : errors_;
  counter.fetch_add(1, std::memory_order_relaxed);
  if (reason == "error") {
    // Redis answered, so it is up; the command was wrong. The first such answer is logged (a
    // script or version problem repeats on every request).
    if (!error_logged_.exchange(true)) {
      spdlog::error("redis answered a command with an error (further ones are only counted): {}",
                    detail);
    }
    return;
  }
  if (up_.exchange(false)) {
    spdlog::error(
        "redis unreachable ({}: {}): limits follow --redis-failure-mode, the cache misses, until "
        "it answers again",
        reason, detail);
  }
}

void Health::limitUnchecked(bool refused) {
  (refused ? failed_closed_ : failed_open_).fetch_add(1, std::memory_order_relaxed);
}

void Health::render(std::string& out) const {
  telemetry::Exposition text(out);
  text.family("portico_redis_up", "gauge",
              "1 while the shared Redis answers, 0 since a command last got no answer.");
  text.sample("portico_redis_up", {}, std::uint64_t{up() ? 1u : 0u});
  text.family("portico_redis_commands_total", "counter", "Commands sent to the shared Redis.");
  text.sample("portico_redis_commands_total", {}, commands());
  text.family("portico_redis_failures_total", "counter",
              "Redis commands without a usable answer, by reason.");
  text.sample("portico_redis_failures_total", {{"reason", "timeout"}}, timeouts());
  text.sample("portico_redis_failures_total", {{"reason", "unavailable"}}, unavailable());
  text.sample("portico_redis_failures_total", {{"reason", "error"}}, errors());
  text.family("portico_redis_limit_unchecked_total", "counter",
              "Virtual-key limit checks Redis could not answer, by what --redis-failure-mode did.");
  text.sample("portico_redis_limit_unchecked_total", {{"outcome", "allowed"}}, failedOpen());
  text.sample("portico_redis_limit_unchecked_total", {{"outcome", "refused"}}, failedClosed());
}

}  // namespace portico::redis
