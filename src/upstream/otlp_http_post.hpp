#pragma once

#include <cstddef>
#include <string>

#include "telemetry/otlp_post.hpp"

namespace portico::upstream {

struct OtlpPostOptions {
  std::string ca_file;  // extra CA bundle (OTEL_EXPORTER_OTLP_CERTIFICATE) besides the system's
  std::size_t max_answer_bytes = 64 * 1024;  // a collector's answer body is read up to this
};

// The real OTLP/HTTP poster for telemetry::OtlpExporter: one blocking HTTP/1.1 POST per call
// (its own small event loop on the calling thread, a new connection each time) to an http:// or
// https:// URL. https verifies the peer against the system store (plus ca_file) and the host
// name. DNS (IP literals are instant), connect, TLS, write and read all end by `timeout`.
// Never puts a header value in an error. Throws std::runtime_error when ca_file cannot be read.
telemetry::OtlpPoster makeOtlpHttpPoster(OtlpPostOptions options = {});

}  // namespace portico::upstream
