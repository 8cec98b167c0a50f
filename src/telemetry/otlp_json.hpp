#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/span.hpp"

namespace portico::telemetry {

// Who made the spans: OTLP's InstrumentationScope.
struct OtlpScope {
  std::string name;
  std::string version;
};

// The OTLP/HTTP JSON body (an ExportTraceServiceRequest) of one batch: one resourceSpans with
// `resource` as its attributes, one scopeSpans, the spans. Ids are lower-case hex, times and
// 64-bit integers decimal strings, enums numbers, as the OTLP specification's JSON encoding
// says. Bytes that are not UTF-8 are replaced, never sent raw.
std::string encodeOtlpTraces(const std::vector<Span>& spans,
                             const std::vector<Attribute>& resource,
                             const OtlpScope& scope);

// partialSuccess.rejectedSpans of an ExportTraceServiceResponse; 0 when the body says nothing
// (empty, not JSON, or no partial success).
std::uint64_t rejectedSpans(std::string_view response_body);

}  // namespace portico::telemetry
