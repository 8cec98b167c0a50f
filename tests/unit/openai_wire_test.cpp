// OpenAI's wire-format helpers that relays put upstream text through.
#include "portico/openai_wire.hpp"

#include <gtest/gtest.h>

namespace portico::openai {
namespace {

// JSON relayed as it came must stay on one data line: an upstream's CR or LF (whitespace in
// JSON) would otherwise end the line and let the rest read as SSE fields of its own.
TEST(OpenAiWire, RelayedJsonStaysOnOneDataLine) {
  std::string out;
  appendSseEvent("message_delta", "{\"a\":\r\n1,\r\"b\":\n2}", out);
  EXPECT_EQ(out, "event: message_delta\ndata: {\"a\":  1, \"b\": 2}\n\n");
  out.clear();
  appendSseEvent("", "{}", out);
  EXPECT_EQ(out, "data: {}\n\n");
}

}  // namespace
}  // namespace portico::openai
