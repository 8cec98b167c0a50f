// Every adapter's stream transformer, for every endpoint it has one for, fed arbitrary upstream
// bytes in pieces and then finished. As in the server, a std::exception from
// makeStreamTransformer() ends the request (the forwarder answers 400) and one from
// feed()/finish() ends the stream (the relay appends an error event); anything else that
// escapes is a finding. Whatever reaches the client must be well-formed SSE as the conformance
// suite demands: "data: <payload>\n\n" events, optionally named ("event: error"), each payload JSON
// or [DONE], and [DONE] at most once, last.
//
// Input: one selector byte, then the upstream bytes.
//   bits 0-2: model named in the client request (fuzz_support.hpp kModels)
//   bit 3: stream_options.include_usage: true (bit 7 clear) or "yes" (bit 7 set)
//   bit 4: strict_open_ai_compliance
//   bit 5: finish(complete = true) instead of false (the upstream broke)
//   bit 6: repair AWS event-stream CRCs first, so Bedrock's decoder gets past them
//   bit 7: see bit 3
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "portico/sse_parser.hpp"

namespace {

using namespace portico;

// Parses `out` as SSE and checks it is exactly the canonical rendering of its events: an
// optional "event: <name>" line (mid-stream errors are `event: error`), one data line, a blank
// line; no ids, comments or CRs.
void checkClientStream(const std::string& out, std::string_view provider) {
  stream::SseParser parser;
  std::vector<stream::SseParser::Event> events;
  fuzz::check(parser.feed(out, events), "stream output: SseParser gave up", provider);
  std::string canonical;
  bool done = false;
  for (const auto& event : events) {
    fuzz::check(!done, "stream output: an event after [DONE]", provider);
    fuzz::check(event.id.empty(), "stream output: an event with an id", provider);
    if (event.data == "[DONE]" && event.event.empty()) {
      done = true;
    } else {
      fuzz::check(nlohmann::json::accept(event.data), "stream output: a payload is not JSON",
                  provider);
    }
    if (!event.event.empty()) {
      canonical += "event: " + event.event + "\n";
    }
    canonical += "data: " + event.data + "\n\n";
  }
  fuzz::check(canonical == out,
              "stream output: not plain \"[event: ...\\n]data: ...\\n\\n\" events", provider);
}

// The OpenAI relay takes whole events from a piece in place and leaves the rest to its SSE
// parser; fed one byte at a time, the parser does all of it. Both must give the same stream.
void checkByteByByte(std::unique_ptr<StreamTransformer> transformer,
                     std::string_view upstream,
                     bool complete,
                     const std::string& expected,
                     std::optional<Usage> expected_usage) {
  std::string out;
  for (std::size_t i = 0; i < upstream.size(); ++i) {
    transformer->feed(upstream.substr(i, 1), out);
  }
  transformer->finish(complete, out);
  fuzz::check(out == expected, "stream output: depends on how the upstream bytes were split",
              "openai");
  fuzz::check(transformer->usage() == expected_usage,
              "stream usage: depends on how the upstream bytes were split", "openai");
}

// Streamed client requests by model, endpoint and include_usage, built once.
const fuzz::RequestHolder& streamRequest(std::size_t model,
                                         std::size_t endpoint,
                                         fuzz::Usage usage) {
  constexpr std::size_t kEndpointCount = std::size(fuzz::kEndpoints);
  static const auto all = [] {
    std::vector<std::unique_ptr<fuzz::RequestHolder>> out;
    for (const char* m : fuzz::kModels) {
      for (Endpoint e : fuzz::kEndpoints) {
        for (auto u : {fuzz::Usage::kAbsent, fuzz::Usage::kTrue, fuzz::Usage::kNotBoolean}) {
          out.push_back(std::make_unique<fuzz::RequestHolder>(e, m, true, u));
        }
      }
    }
    return out;
  }();
  return *all[(model * kEndpointCount + endpoint) * 3 + static_cast<std::size_t>(usage)];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  const std::size_t model_index = (selector & 7) % fuzz::kModelCount;
  const fuzz::Usage usage = (selector & 8) == 0     ? fuzz::Usage::kAbsent
                            : (selector & 128) == 0 ? fuzz::Usage::kTrue
                                                    : fuzz::Usage::kNotBoolean;
  const bool strict = selector & 16;
  const bool complete = selector & 32;
  std::string upstream(fuzz::asView(data + 1, size - 1));
  const std::uint64_t hash = fuzz::hashBytes(upstream);
  if (selector & 64) {
    fuzz::repairEventStreamCrcs(upstream);
  }
  const std::vector<std::string_view> pieces = fuzz::splitPieces(upstream, hash);

  const auto& registry = fuzz::registry();
  static const std::vector<std::string> ids = registry.ids();
  for (const auto& id : ids) {
    const ProviderAdapter* adapter = registry.find(id);
    const Target target = fuzz::fullTarget(id, strict);
    for (std::size_t e = 0; e < std::size(fuzz::kEndpoints); ++e) {
      const Endpoint endpoint = fuzz::kEndpoints[e];
      if (!adapter->supports(endpoint)) {
        continue;
      }
      const fuzz::RequestHolder& holder = streamRequest(model_index, e, usage);
      std::unique_ptr<StreamTransformer> transformer;
      try {
        transformer = adapter->makeStreamTransformer(holder.request, target);
      } catch (const std::exception&) {
        continue;  // the forwarder answers 400 before any stream byte
      }
      if (!transformer) {
        continue;  // relayed unchanged
      }
      std::string out;
      bool threw = false;
      try {
        for (auto piece : pieces) {
          transformer->feed(piece, out);
        }
        transformer->finish(complete, out);
      } catch (const std::exception&) {
        // The relay ends the stream here with an error event; what was written must still be
        // whole events.
        threw = true;
      }
      checkClientStream(out, id);
      if (id == "openai" && !threw) {
        checkByteByByte(adapter->makeStreamTransformer(holder.request, target), upstream, complete,
                        out, transformer->usage());
      }
    }
  }
  return 0;
}
