// SseParser must not care how the bytes are split: the whole input in one feed and the same
// input in pieces (split points derived from the bytes) must give the same events.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"
#include "portico/sse_parser.hpp"

namespace {

using portico::stream::SseParser;

struct Outcome {
  std::vector<SseParser::Event> events;
  bool broken = false;
};

Outcome parse(const std::vector<std::string_view>& pieces) {
  SseParser parser;  // the 8 MiB default: far above -max_len, so never broken
  Outcome out;
  for (auto piece : pieces) {
    parser.feed(piece, out.events);
  }
  parser.finish(out.events);
  out.broken = parser.broken();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = portico::fuzz::asView(data, size);
  const Outcome whole = parse({input});
  const Outcome split = parse(portico::fuzz::splitPieces(input, portico::fuzz::hashBytes(input)));
  // The limit is checked when a feed ends, so where it trips legitimately depends on the split;
  // below it nothing may.
  portico::fuzz::check(!whole.broken && !split.broken, "SseParser: broken below its limit");
  portico::fuzz::check(whole.events == split.events, "SseParser: events depend on the split");
  return 0;
}
