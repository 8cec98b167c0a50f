// The OTLP/HTTP JSON body: resourceSpans -> scopeSpans -> spans, hex ids, decimal-string times
// and integers, numeric kinds, typed attribute values, error status; and partial success.
#include "telemetry/otlp_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace portico::telemetry {
namespace {

using nlohmann::json;

Span sampleSpan() {
  Span span;
  for (std::size_t i = 0; i < 16; ++i) span.trace_id[i] = static_cast<std::uint8_t>(i + 1);
  span.span_id = 0x0102030405060708u;
  span.parent_span_id = 0xa1a2a3a4a5a6a7a8u;
  span.parent_is_remote = true;
  span.name = "chat gpt-4o-mini";
  span.kind = SpanKind::kClient;
  span.start_unix_nano = 1'700'000'000'000'000'001u;
  span.end_unix_nano = 1'700'000'000'250'000'000u;
  span.attributes = {
      {"gen_ai.request.model", std::string("gpt-4o-mini")},
      {"gen_ai.usage.input_tokens", std::int64_t{7}},
      {"ratio", 0.5},
      {"portico.streamed", true},
      {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop", "length"}}};
  span.error = true;
  return span;
}

TEST(OtlpJson, EncodesTheExportRequestShape) {
  const std::string body = encodeOtlpTraces(
      {sampleSpan()}, {{"service.name", std::string("portico")}}, {"portico", "0.1.0"});
  const json parsed = json::parse(body);
  ASSERT_EQ(parsed["resourceSpans"].size(), 1u);
  const json& resource_spans = parsed["resourceSpans"][0];
  EXPECT_EQ(resource_spans["resource"]["attributes"],
            json::parse(R"([{"key":"service.name","value":{"stringValue":"portico"}}])"));
  ASSERT_EQ(resource_spans["scopeSpans"].size(), 1u);
  const json& scope_spans = resource_spans["scopeSpans"][0];
  EXPECT_EQ(scope_spans["scope"], json::parse(R"({"name":"portico","version":"0.1.0"})"));
  ASSERT_EQ(scope_spans["spans"].size(), 1u);
  const json& span = scope_spans["spans"][0];
  EXPECT_EQ(span["traceId"], "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(span["spanId"], "0102030405060708");
  EXPECT_EQ(span["parentSpanId"], "a1a2a3a4a5a6a7a8");
  EXPECT_EQ(span["name"], "chat gpt-4o-mini");
  EXPECT_EQ(span["kind"], 3);
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000000000001");
  EXPECT_EQ(span["endTimeUnixNano"], "1700000000250000000");
  EXPECT_EQ(span["flags"], 0x301);  // sampled, parent known to be remote
  EXPECT_EQ(span["status"], json::parse(R"({"code":2})"));
  EXPECT_EQ(span["attributes"], json::parse(R"([
    {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
    {"key":"gen_ai.usage.input_tokens","value":{"intValue":"7"}},
    {"key":"ratio","value":{"doubleValue":0.5}},
    {"key":"portico.streamed","value":{"boolValue":true}},
    {"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[
      {"stringValue":"stop"},{"stringValue":"length"}]}}}])"));
}

TEST(OtlpJson, RootSpansHaveNoParentAndUnsetStatus) {
  Span span = sampleSpan();
  span.parent_span_id = 0;
  span.parent_is_remote = false;
  span.error = false;
  span.kind = SpanKind::kServer;
  const json parsed = json::parse(encodeOtlpTraces({span}, {}, {"portico", "0.1.0"}));
  const json& encoded = parsed["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_FALSE(encoded.contains("parentSpanId"));
  EXPECT_FALSE(encoded.contains("status"));
  EXPECT_EQ(encoded["kind"], 2);
  EXPECT_EQ(encoded["flags"], 0x101);
}

TEST(OtlpJson, BytesThatAreNotUtf8AreReplacedNotSent) {
  Span span = sampleSpan();
  span.name = std::string("POST /v1/\xff\xfe");
  const std::string body = encodeOtlpTraces({span}, {}, {"portico", "0.1.0"});
  EXPECT_EQ(body.find('\xff'), std::string::npos);
  EXPECT_TRUE(json::accept(body));
}

TEST(OtlpJson, ManySpansInOneScope) {
  std::vector<Span> spans(3, sampleSpan());
  const json parsed = json::parse(encodeOtlpTraces(spans, {}, {"portico", "0.1.0"}));
  EXPECT_EQ(parsed["resourceSpans"][0]["scopeSpans"][0]["spans"].size(), 3u);
}

TEST(OtlpJson, RejectedSpansOfAPartialSuccess) {
  EXPECT_EQ(rejectedSpans(""), 0u);
  EXPECT_EQ(rejectedSpans("{}"), 0u);
  EXPECT_EQ(rejectedSpans("not json"), 0u);
  EXPECT_EQ(rejectedSpans(R"({"partialSuccess":{}})"), 0u);
  EXPECT_EQ(rejectedSpans(R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"x"}})"), 3u);
  EXPECT_EQ(rejectedSpans(R"({"partialSuccess":{"rejectedSpans":2}})"), 2u);
}

}  // namespace
}  // namespace portico::telemetry
