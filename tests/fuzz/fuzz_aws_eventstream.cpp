// AwsEventStreamParser must not care how the bytes are split: the whole input in one feed and
// the same input in pieces must agree on the status, the error, the messages and the bytes left
// buffered. Most inputs get their CRCs repaired first, so the header and payload decoding is
// reached rather than stopping at the first CRC check.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "portico/aws_eventstream_parser.hpp"

namespace {

using portico::stream::AwsEventStreamParser;
using portico::stream::EventStreamMessage;

struct Outcome {
  AwsEventStreamParser::Status status = AwsEventStreamParser::Status::kOk;
  std::string error;
  std::vector<EventStreamMessage> messages;
  std::size_t buffered = 0;
};

Outcome parse(const std::vector<std::string_view>& pieces) {
  AwsEventStreamParser parser;
  Outcome out;
  for (auto piece : pieces) {
    out.status = parser.feed(piece, out.messages);
  }
  out.error = parser.errorMessage();
  out.buffered = parser.buffered();
  return out;
}

bool sameMessages(const std::vector<EventStreamMessage>& a,
                  const std::vector<EventStreamMessage>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].headers != b[i].headers || a[i].payload != b[i].payload) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(portico::fuzz::asView(data, size));
  const std::uint64_t hash = portico::fuzz::hashBytes(input);
  if (hash % 4 != 0) {
    portico::fuzz::repairEventStreamCrcs(input);
  }
  const Outcome whole = parse({input});
  const Outcome split = parse(portico::fuzz::splitPieces(input, hash >> 2));
  portico::fuzz::check(whole.status == split.status, "event-stream: status depends on the split");
  portico::fuzz::check(whole.error == split.error, "event-stream: error depends on the split");
  portico::fuzz::check(sameMessages(whole.messages, split.messages),
                       "event-stream: messages depend on the split");
  portico::fuzz::check(whole.buffered == split.buffered,
                       "event-stream: buffered() depends on the split");
  return 0;
}
