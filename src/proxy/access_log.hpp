#pragma once

#include <memory>

#include "portico/observer.hpp"

namespace spdlog {
class logger;
}

namespace portico::proxy {

// The first observer: one info line per request when it ends. As text,
//   POST /v1/chat/completions provider=openai model=gpt-4o status=200 prompt_tokens=12
//   completion_tokens=40 upstream_ms=81.20 total_ms=83.05 trace=... retries=0 cache=MISS
// ("-" for what is unknown, vk=name when a virtual key served it); in JSON mode one object on
// the "access" logger (telemetry::JsonLogFormatter puts time and level in front). Never logs
// keys, bodies, headers or query strings.
class AccessLog final : public Observer {
 public:
  explicit AccessLog(bool json = false);
  void requestEnded(const RequestInfo& request, const RequestOutcome& outcome) override;

 private:
  void writeJson(const RequestInfo& request, const RequestOutcome& outcome, double total_seconds);

  bool json_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace portico::proxy
