#include "telemetry/json_log_formatter.hpp"

#include <spdlog/fmt/chrono.h>
#include <spdlog/fmt/fmt.h>

#include <nlohmann/json.hpp>

namespace portico::telemetry {
namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto since_epoch = msg.time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t whole = seconds.count();
  fmt::format_to(std::back_inserter(dest), R"({{"time":"{:%Y-%m-%dT%H:%M:%S}.{:03}Z","level":")",
                 fmt::gmtime(whole), millis);
  const auto level = spdlog::level::to_string_view(msg.level);
  append(dest, std::string_view(level.data(), level.size()));
  append(dest, "\",");
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
  if (logger == kAccessLoggerName && payload.size() >= 2 && payload.front() == '{') {
    append(dest, R"("type":"access",)");
    append(dest, payload.substr(1));  // the object's members and its closing brace
  } else {
    append(dest, "\"message\":");
    // Replace, not throw, on invalid UTF-8: a log line must never take the process down.
    append(dest, nlohmann::json(std::string(payload))
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    append(dest, "}");
  }
  append(dest, "\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace portico::telemetry
