#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "portico/http_types.hpp"
#include "portico/observer.hpp"

namespace portico::telemetry {

// The W3C trace-context header, version 00: "00-<32 hex trace id>-<16 hex parent id>-<2 hex
// flags>". nullopt for anything else, an all-zero id included (the spec says to ignore such
// headers and start a new trace).
struct Traceparent {
  std::array<std::uint8_t, 16> trace_id{};
  std::uint64_t parent_id = 0;
  bool sampled = false;
};
std::optional<Traceparent> parseTraceparent(std::string_view header);

// "00-<trace id>-<span id>-<01 or 00>".
std::string formatTraceparent(const std::array<std::uint8_t, 16>& trace_id,
                              std::uint64_t span_id,
                              bool sampled);

// Lower-case hex of a trace id (32 characters) and of a span id (16).
std::string traceIdHex(const std::array<std::uint8_t, 16>& trace_id);
std::string spanIdHex(std::uint64_t span_id);

// A generator seeded with 256 bits from the system (one 32-bit seed would give a fleet of
// workers colliding id sequences).
std::mt19937_64 seededRandom();

// A non-zero random span id.
std::uint64_t newSpanId(std::mt19937_64& random);

// The request's trace context from its headers: the caller's traceparent (and tracestate)
// continued, or a new trace id; a new server span id. `sampled` is left for the sampler.
TraceContext startTrace(const HeaderList& headers, std::mt19937_64& random);

}  // namespace portico::telemetry
