#include "proxy/access_log.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "telemetry/json_log_formatter.hpp"
#include "telemetry/trace_context.hpp"

namespace portico::proxy {
namespace {

std::string_view orDash(std::string_view text) { return text.empty() ? "-" : text; }

std::string count(const std::optional<Usage>& usage, std::optional<std::int64_t> Usage::*field) {
  return usage && (*usage).*field ? std::to_string(*((*usage).*field)) : "-";
}

void putCount(nlohmann::json& line,
              const char* name,
              const std::optional<Usage>& usage,
              std::optional<std::int64_t> Usage::*field) {
  if (usage && (*usage).*field) {
    line[name] = *((*usage).*field);
  }
}

}  // namespace

AccessLog::AccessLog(bool json) : json_(json) {
  if (json_) {
    logger_ = spdlog::get(telemetry::kAccessLoggerName);
  }
  if (!logger_) {
    logger_ = spdlog::default_logger();
  }
}

void AccessLog::requestEnded(const RequestInfo& request, const RequestOutcome& outcome) {
  if (!logger_->should_log(spdlog::level::info)) {
    return;
  }
  const auto total = std::chrono::duration<double>(outcome.ended - request.started).count();
  if (json_) {
    writeJson(request, outcome, total);
    return;
  }
  if (!request.gateway_route) {
    logger_->info("{} {} status={} total_ms={:.2f}", request.method, request.path, outcome.status,
                  total * 1000);
    return;
  }
  logger_->info(
      "{} {} provider={} model={} status={} prompt_tokens={} completion_tokens={} "
      "upstream_ms={:.2f} total_ms={:.2f} trace={} retries={} cache={}{}{}",
      request.method, request.path, orDash(outcome.provider), orDash(outcome.model), outcome.status,
      count(outcome.usage, &Usage::prompt_tokens), count(outcome.usage, &Usage::completion_tokens),
      outcome.upstream_time.count() / 1000.0, total * 1000, orDash(request.trace_id),
      outcome.retry_count, orDash(outcome.cache_status),
      request.virtual_key.empty() ? "" : " vk=", request.virtual_key);
}

void AccessLog::writeJson(const RequestInfo& request,
                          const RequestOutcome& outcome,
                          double total_seconds) {
  using nlohmann::json;
  json line = json::object();
  line["method"] = request.method;
  line["path"] = request.path;
  line["status"] = outcome.status;
  line["total_seconds"] = total_seconds;
  if (request.gateway_route) {
    line["trace_id"] = request.trace_id;
    line["otel_trace_id"] = telemetry::traceIdHex(request.trace.trace_id);
    line["provider"] = outcome.provider;
    line["model"] = outcome.model;
    line["upstream_seconds"] = static_cast<double>(outcome.upstream_time.count()) / 1e6;
    putCount(line, "prompt_tokens", outcome.usage, &Usage::prompt_tokens);
    putCount(line, "completion_tokens", outcome.usage, &Usage::completion_tokens);
    putCount(line, "cached_tokens", outcome.usage, &Usage::cached_tokens);
    putCount(line, "reasoning_tokens", outcome.usage, &Usage::reasoning_tokens);
    line["retries"] = outcome.retry_count;
    line["cache_status"] = outcome.cache_status;
    line["streamed"] = outcome.streamed;
    if (!request.virtual_key.empty()) {
      line["virtual_key"] = request.virtual_key;
    }
  }
  logger_->info("{}", line.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace portico::proxy
