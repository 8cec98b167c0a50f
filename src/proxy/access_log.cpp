#include "proxy/access_log.hpp"

#include <spdlog/spdlog.h>

namespace portico::proxy {
namespace {

std::string_view orDash(std::string_view text) { return text.empty() ? "-" : text; }

std::string count(const std::optional<Usage>& usage, std::optional<std::int64_t> Usage::*field) {
  return usage && (*usage).*field ? std::to_string(*((*usage).*field)) : "-";
}

}  // namespace

void AccessLog::requestEnded(const RequestInfo& request, const RequestOutcome& outcome) {
  if (!spdlog::should_log(spdlog::level::info)) {
    return;
  }
  const auto total =
      std::chrono::duration<double, std::milli>(outcome.ended - request.started).count();
  if (!request.gateway_route) {
    spdlog::info("{} {} status={} total_ms={:.2f}", request.method, request.path, outcome.status,
                 total);
    return;
  }
  spdlog::info(
      "{} {} provider={} model={} status={} prompt_tokens={} completion_tokens={} "
      "upstream_ms={:.2f} total_ms={:.2f} trace={}",
      request.method, request.path, orDash(outcome.provider), orDash(outcome.model), outcome.status,
      count(outcome.usage, &Usage::prompt_tokens), count(outcome.usage, &Usage::completion_tokens),
      outcome.upstream_time.count() / 1000.0, total, orDash(request.trace_id));
}

}  // namespace portico::proxy
