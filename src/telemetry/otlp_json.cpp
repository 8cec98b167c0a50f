#include "telemetry/otlp_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "telemetry/trace_context.hpp"

namespace portico::telemetry {
namespace {

using nlohmann::json;

// W3C trace flags in the low byte (sampled), then OTLP's "is the parent remote" bits.
constexpr std::uint32_t kSampledFlag = 0x01;
constexpr std::uint32_t kHasIsRemote = 0x100;
constexpr std::uint32_t kIsRemote = 0x200;
constexpr int kStatusError = 2;

json encodeDouble(double value) {
  // Proto3's JSON mapping spells the values JSON has no number for.
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

json encodeValue(const AttributeValue& value) {
  struct Visitor {
    json operator()(const std::string& text) const { return {{"stringValue", text}}; }
    json operator()(std::int64_t number) const { return {{"intValue", std::to_string(number)}}; }
    json operator()(double number) const { return {{"doubleValue", encodeDouble(number)}}; }
    json operator()(bool flag) const { return {{"boolValue", flag}}; }
    json operator()(const std::vector<std::string>& texts) const {
      json values = json::array();
      for (const auto& text : texts) {
        values.push_back({{"stringValue", text}});
      }
      return {{"arrayValue", {{"values", std::move(values)}}}};
    }
  };
  return std::visit(Visitor{}, value);
}

json encodeAttributes(const std::vector<Attribute>& attributes) {
  json out = json::array();
  for (const auto& attribute : attributes) {
    out.push_back({{"key", attribute.key}, {"value", encodeValue(attribute.value)}});
  }
  return out;
}

json encodeSpan(const Span& span) {
  json out = {{"traceId", traceIdHex(span.trace_id)},
              {"spanId", spanIdHex(span.span_id)},
              {"flags", kSampledFlag | kHasIsRemote | (span.parent_is_remote ? kIsRemote : 0)},
              {"name", span.name},
              {"kind", static_cast<int>(span.kind)},
              {"startTimeUnixNano", std::to_string(span.start_unix_nano)},
              {"endTimeUnixNano", std::to_string(span.end_unix_nano)},
              {"attributes", encodeAttributes(span.attributes)}};
  if (span.parent_span_id != 0) {
    out["parentSpanId"] = spanIdHex(span.parent_span_id);
  }
  if (span.error) {
    out["status"] = {{"code", kStatusError}};
  }
  return out;
}

}  // namespace

std::string encodeOtlpTraces(const std::vector<Span>& spans,
                             const std::vector<Attribute>& resource,
                             const OtlpScope& scope) {
  json encoded_spans = json::array();
  for (const auto& span : spans) {
    encoded_spans.push_back(encodeSpan(span));
  }
  json scope_spans = {{"scope", {{"name", scope.name}, {"version", scope.version}}},
                      {"spans", std::move(encoded_spans)}};
  json body = {{"resourceSpans",
                {{{"resource", {{"attributes", encodeAttributes(resource)}}},
                  {"scopeSpans", {std::move(scope_spans)}}}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::uint64_t rejectedSpans(std::string_view response_body) {
  const json parsed = json::parse(response_body, nullptr, false);
  if (!parsed.is_object()) {
    return 0;
  }
  const auto partial = parsed.find("partialSuccess");
  if (partial == parsed.end() || !partial->is_object()) {
    return 0;
  }
  const auto rejected = partial->find("rejectedSpans");
  if (rejected == partial->end()) {
    return 0;
  }
  if (rejected->is_number_unsigned()) {
    return rejected->get<std::uint64_t>();
  }
  if (rejected->is_string()) {
    try {
      return std::stoull(rejected->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

}  // namespace portico::telemetry
