#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace portico::telemetry {

// OTLP's SpanKind enum (numeric on the wire).
enum class SpanKind : int { kInternal = 1, kServer = 2, kClient = 3 };

using AttributeValue =
    std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

// One finished span, owning its strings: it outlives the request it describes.
struct Span {
  std::array<std::uint8_t, 16> trace_id{};
  std::uint64_t span_id = 0;
  std::uint64_t parent_span_id = 0;  // 0: a root span
  bool parent_is_remote = false;     // the parent came from the caller's traceparent
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::uint64_t start_unix_nano = 0;
  std::uint64_t end_unix_nano = 0;
  std::vector<Attribute> attributes;
  bool error = false;  // OTLP status code 2 (else 0, unset)
};

// Where finished spans go (the exporter; a recorder in tests). Called on the request path from
// every worker: must not block.
class SpanSink {
 public:
  virtual ~SpanSink() = default;
  virtual void submit(Span span) = 0;
  // Spans lost before they reached the sink (a request whose state was evicted).
  virtual void countDropped(std::uint64_t spans) = 0;
};

}  // namespace portico::telemetry
