// W3C traceparent: what is accepted, what is refused (and so starts a new trace), formatting,
// and the trace context a request starts with.
#include "telemetry/trace_context.hpp"

#include <gtest/gtest.h>

namespace portico::telemetry {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheSpecExample) {
  auto parsed = parseTraceparent(kValid);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(traceIdHex(parsed->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed->parent_id, 0x00f067aa0ba902b7u);
  EXPECT_TRUE(parsed->sampled);
}

TEST(Traceparent, ReadsTheSampledBitOnly) {
  auto off = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->sampled);
  auto other_bits = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe");
  ASSERT_TRUE(other_bits);
  EXPECT_FALSE(other_bits->sampled);
  auto both = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(both);
  EXPECT_TRUE(both->sampled);
}

TEST(Traceparent, RefusesMalformedHeaders) {
  for (const char* bad : {
           "", "00",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",     // short flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // v00 with more
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // forbidden version
           "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // not hex
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // wrong separator
           "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",    // misplaced dash
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",    // not hex
       }) {
    EXPECT_FALSE(parseTraceparent(bad)) << bad;
  }
}

TEST(Traceparent, AcceptsLaterVersionsWithMoreFields) {
  // A later version may append fields after a dash; its first four are read as version 00's.
  auto parsed = parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->sampled);
  EXPECT_FALSE(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST(Traceparent, FormatsWhatItParses) {
  auto parsed = parseTraceparent(kValid);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(formatTraceparent(parsed->trace_id, parsed->parent_id, true), kValid);
  EXPECT_EQ(formatTraceparent(parsed->trace_id, 1, false),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-00");
  EXPECT_EQ(spanIdHex(0xffffffffffffffffu), "ffffffffffffffff");
  EXPECT_EQ(spanIdHex(0), "0000000000000000");
}

TEST(StartTrace, ContinuesTheCallersTrace) {
  std::mt19937_64 random(7);
  HeaderList headers = {{"traceparent", kValid}, {"tracestate", "vendor=1"}};
  TraceContext trace = startTrace(headers, random);
  EXPECT_EQ(traceIdHex(trace.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace.parent_span_id, 0x00f067aa0ba902b7u);
  EXPECT_TRUE(trace.parent_sampled);
  EXPECT_EQ(trace.tracestate, "vendor=1");
  EXPECT_NE(trace.span_id, 0u);
  EXPECT_NE(trace.span_id, trace.parent_span_id);
  EXPECT_FALSE(trace.sampled);  // the sampler's to decide
}

TEST(StartTrace, StartsANewTraceWithoutOrWithABadTraceparent) {
  std::mt19937_64 random(7);
  for (const HeaderList& headers :
       {HeaderList{}, HeaderList{{"traceparent", "garbage"}, {"tracestate", "vendor=1"}}}) {
    TraceContext trace = startTrace(headers, random);
    EXPECT_NE(traceIdHex(trace.trace_id), std::string(32, '0'));
    EXPECT_EQ(trace.parent_span_id, 0u);
    EXPECT_FALSE(trace.parent_sampled);
    EXPECT_TRUE(trace.tracestate.empty());  // no tracestate without a valid traceparent
    EXPECT_NE(trace.span_id, 0u);
  }
  TraceContext first = startTrace({}, random);
  TraceContext second = startTrace({}, random);
  EXPECT_NE(first.trace_id, second.trace_id);
}

}  // namespace
}  // namespace portico::telemetry
