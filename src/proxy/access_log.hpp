#pragma once

#include "portico/observer.hpp"

namespace portico::proxy {

// The first observer: one info line per request when it ends,
//   POST /v1/chat/completions provider=openai model=gpt-4o status=200 prompt_tokens=12
//   completion_tokens=40 upstream_ms=81.20 total_ms=83.05 trace=...
// ("-" for what is unknown). Never logs keys, bodies or headers.
class AccessLog final : public Observer {
 public:
  void requestEnded(const RequestInfo& request, const RequestOutcome& outcome) override;
};

}  // namespace portico::proxy
