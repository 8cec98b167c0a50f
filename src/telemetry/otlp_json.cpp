#include "telemetry/otlp_json.hpp"

#include <algorithm>
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

// The request body written straight into one string: building an nlohmann tree per batch cost
// about 190k instructions a span on the exporter's thread (callgrind), most of it allocation.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& raw(std::string_view text) {
    out_ += text;
    return *this;
  }
  // A JSON string. Plain printable ASCII is copied as it is; anything else is escaped by
  // nlohmann's serializer (invalid UTF-8 replaced, never thrown).
  Writer& string(std::string_view text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
      out_ += '"';
      out_ += text;
      out_ += '"';
    } else {
      out_ += json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return *this;
  }
  Writer& number(std::int64_t value) {
    out_ += std::to_string(value);
    return *this;
  }
  // Proto3's JSON mapping spells the values JSON has no number for.
  Writer& real(double value) {
    if (std::isnan(value)) return string("NaN");
    if (std::isinf(value)) return string(value > 0 ? "Infinity" : "-Infinity");
    out_ += json(value).dump();
    return *this;
  }

 private:
  std::string& out_;
};

void writeValue(Writer& out, const AttributeValue& value) {
  struct Visitor {
    Writer& out;
    void operator()(const std::string& text) const { out.raw("{\"stringValue\":").string(text); }
    void operator()(std::int64_t number) const {
      out.raw("{\"intValue\":").string(std::to_string(number));  // int64 is a string in JSON
    }
    void operator()(double number) const { out.raw("{\"doubleValue\":").real(number); }
    void operator()(bool flag) const {
      out.raw(flag ? "{\"boolValue\":true" : "{\"boolValue\":false");
    }
    void operator()(const std::vector<std::string>& texts) const {
      out.raw("{\"arrayValue\":{\"values\":[");
      for (std::size_t i = 0; i < texts.size(); ++i) {
        out.raw(i == 0 ? "{\"stringValue\":" : ",{\"stringValue\":").string(texts[i]).raw("}");
      }
      out.raw("]}");
    }
  };
  std::visit(Visitor{out}, value);
  out.raw("}");
}

void writeAttributes(Writer& out, const std::vector<Attribute>& attributes) {
  out.raw("[");
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    out.raw(i == 0 ? "{\"key\":" : ",{\"key\":").string(attributes[i].key).raw(",\"value\":");
    writeValue(out, attributes[i].value);
    out.raw("}");
  }
  out.raw("]");
}

void writeSpan(Writer& out, const Span& span) {
  const std::uint32_t flags = kSampledFlag | kHasIsRemote | (span.parent_is_remote ? kIsRemote : 0);
  out.raw("{\"traceId\":").string(traceIdHex(span.trace_id));
  out.raw(",\"spanId\":").string(spanIdHex(span.span_id));
  if (span.parent_span_id != 0) {
    out.raw(",\"parentSpanId\":").string(spanIdHex(span.parent_span_id));
  }
  out.raw(",\"flags\":").number(flags);
  out.raw(",\"name\":").string(span.name);
  out.raw(",\"kind\":").number(static_cast<int>(span.kind));
  out.raw(",\"startTimeUnixNano\":").string(std::to_string(span.start_unix_nano));
  out.raw(",\"endTimeUnixNano\":").string(std::to_string(span.end_unix_nano));
  out.raw(",\"attributes\":");
  writeAttributes(out, span.attributes);
  if (span.error) {
    out.raw(",\"status\":{\"code\":").number(kStatusError).raw("}");
  }
  out.raw("}");
}

}  // namespace

std::string encodeOtlpTraces(const std::vector<Span>& spans,
                             const std::vector<Attribute>& resource,
                             const OtlpScope& scope) {
  std::string body;
  body.reserve(1024 + spans.size() * 1024);
  Writer out(body);
  out.raw("{\"resourceSpans\":[{\"resource\":{\"attributes\":");
  writeAttributes(out, resource);
  out.raw("},\"scopeSpans\":[{\"scope\":{\"name\":").string(scope.name);
  out.raw(",\"version\":").string(scope.version).raw("},\"spans\":[");
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i != 0) {
      out.raw(",");
    }
    writeSpan(out, spans[i]);
  }
  out.raw("]}]}]}");
  return body;
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
