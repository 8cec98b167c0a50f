#include "telemetry/trace_context.hpp"

#include <boost/algorithm/hex.hpp>
#include <cstring>

namespace portico::telemetry {
namespace {

bool isLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

template <std::size_t N>
bool unhex(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N || !isLowerHex(text)) {
    return false;
  }
  boost::algorithm::unhex(text.begin(), text.end(), out.begin());
  return true;
}

bool allZero(std::string_view hex) { return hex.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

std::optional<Traceparent> parseTraceparent(std::string_view header) {
  // version-traceid-parentid-flags; later versions may append fields after another '-'.
  if (header.size() < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-') {
    return std::nullopt;
  }
  const auto version = header.substr(0, 2);
  if (!isLowerHex(version) || version == "ff" || (version == "00" && header.size() != 55) ||
      (header.size() > 55 && header[55] != '-')) {
    return std::nullopt;
  }
  Traceparent parsed;
  std::array<std::uint8_t, 8> parent{};
  std::array<std::uint8_t, 1> flags{};
  const auto trace_hex = header.substr(3, 32);
  const auto parent_hex = header.substr(36, 16);
  if (!unhex(trace_hex, parsed.trace_id) || !unhex(parent_hex, parent) ||
      !unhex(header.substr(53, 2), flags) || allZero(trace_hex) || allZero(parent_hex)) {
    return std::nullopt;
  }
  for (std::uint8_t byte : parent) {
    parsed.parent_id = (parsed.parent_id << 8) | byte;
  }
  parsed.sampled = (flags[0] & 0x01) != 0;
  return parsed;
}

std::string traceIdHex(const std::array<std::uint8_t, 16>& trace_id) {
  std::string out;
  out.reserve(32);
  boost::algorithm::hex_lower(trace_id.begin(), trace_id.end(), std::back_inserter(out));
  return out;
}

std::string spanIdHex(std::uint64_t span_id) {
  std::array<std::uint8_t, 8> bytes{};
  for (int i = 7; i >= 0; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(span_id & 0xff);
    span_id >>= 8;
  }
  std::string out;
  out.reserve(16);
  boost::algorithm::hex_lower(bytes.begin(), bytes.end(), std::back_inserter(out));
  return out;
}

std::string formatTraceparent(const std::array<std::uint8_t, 16>& trace_id,
                              std::uint64_t span_id,
                              bool sampled) {
  return "00-" + traceIdHex(trace_id) + "-" + spanIdHex(span_id) + (sampled ? "-01" : "-00");
}

std::mt19937_64 seededRandom() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(),
                     device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

std::uint64_t newSpanId(std::mt19937_64& random) {
  std::uint64_t id = 0;
  while (id == 0) {
    id = random();
  }
  return id;
}

TraceContext startTrace(const HeaderList& headers, std::mt19937_64& random) {
  TraceContext trace;
  const auto header = findHeader(headers, "traceparent");
  if (auto parent = header ? parseTraceparent(*header) : std::nullopt) {
    trace.trace_id = parent->trace_id;
    trace.parent_span_id = parent->parent_id;
    trace.parent_sampled = parent->sampled;
    trace.tracestate = findHeader(headers, "tracestate").value_or("");
  } else {
    const std::uint64_t high = newSpanId(random);
    const std::uint64_t low = random();
    std::memcpy(trace.trace_id.data(), &high, 8);
    std::memcpy(trace.trace_id.data() + 8, &low, 8);
  }
  trace.span_id = newSpanId(random);
  return trace;
}

}  // namespace portico::telemetry
