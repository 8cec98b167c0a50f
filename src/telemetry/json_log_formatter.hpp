#pragma once

#include <spdlog/formatter.h>

#include <memory>

namespace portico::telemetry {

// --log-format json: every log line one JSON object,
//   {"time":"2026-12-02T09:00:00.123Z","level":"info","message":"..."}
// and the access logger's lines (already JSON objects) with time and level put in front:
//   {"time":"...","level":"info","type":"access","method":"POST",...}
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// The name of the logger whose messages are JSON objects (the access log, in JSON mode).
inline constexpr const char* kAccessLoggerName = "access";

}  // namespace portico::telemetry
