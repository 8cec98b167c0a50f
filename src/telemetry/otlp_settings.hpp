#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "portico/observer.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/otlp_post.hpp"
#include "telemetry/span.hpp"

namespace portico::telemetry {

// Reads one environment variable (nullopt: unset). Injected so tests need no real environment.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
// The process environment (std::getenv); call at start-up only.
EnvLookup processEnvironment();

// OTEL_TRACES_SAMPLER's values.
enum class SamplerKind {
  kAlwaysOn,
  kAlwaysOff,
  kTraceIdRatio,
  kParentBasedAlwaysOn,
  kParentBasedAlwaysOff,
  kParentBasedTraceIdRatio,
};

// Trace export as the standard OTEL_* variables describe it.
struct OtlpSettings {
  // Off unless an endpoint is set; OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true turn it
  // off too. The other fields are read only when it is on.
  bool enabled = false;
  // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.
  std::string url;
  // OTEL_EXPORTER_OTLP_TRACES_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS: "k=v,k2=v2", values
  // percent-decoded. They may hold an API key: never log them.
  PostHeaders headers;
  std::chrono::milliseconds timeout{10'000};  // OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT, ms
  std::string ca_file;  // OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE: extra CA bundle for https
  // OTEL_RESOURCE_ATTRIBUTES, with service.name (OTEL_SERVICE_NAME, default "portico") first.
  std::vector<Attribute> resource;
  SamplerKind sampler = SamplerKind::kParentBasedAlwaysOn;  // OTEL_TRACES_SAMPLER
  double ratio = 1.0;                                       // OTEL_TRACES_SAMPLER_ARG
  // The batch span processor's OTEL_BSP_MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE, _SCHEDULE_DELAY.
  std::size_t max_queue_spans = 2048;
  std::size_t max_batch_spans = 512;
  std::chrono::milliseconds batch_interval{1'000};
  // Values that were ignored (unknown sampler, bad number, unsupported protocol ...), for the
  // start-up log. They name variables, never header values.
  std::vector<std::string> warnings;
};

// A setting that cannot work (an endpoint that is not an http(s) URL, a malformed header);
// the message names the variable and never echoes a header value.
class OtlpSettingsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws OtlpSettingsError.
OtlpSettings readOtlpSettings(const EnvLookup& lookup);

// The per-request decision for ServerOptions::trace_sampler (null when tracing is off). The
// ratio samplers decide on the trace id alone, as OpenTelemetry's TraceIdRatioBased does, so
// every service that sees a trace decides the same; the parent-based ones follow the caller's
// sampled flag when it sent a traceparent.
std::function<bool(const TraceContext&)> makeSampler(const OtlpSettings& settings);

// Whether TraceIdRatioBased with `ratio` samples `trace_id`: its last 56 bits, read as a
// number, at or above the rejection threshold (1 - ratio) * 2^56.
bool traceIdRatioSamples(const std::array<std::uint8_t, 16>& trace_id, double ratio);

// The exporter's options from the settings.
OtlpExporterOptions exporterOptions(const OtlpSettings& settings);

}  // namespace portico::telemetry
