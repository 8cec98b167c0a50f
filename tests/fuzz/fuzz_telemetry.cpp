// What observability reads from clients and upstreams: a traceparent header must parse to
// something that formats back to itself or be refused; the answer-facts reader must take any
// bytes without crashing and keep what it keeps bounded; and a label value, whatever its bytes,
// must leave one well-formed exposition line (printable ASCII, one newline, at the end).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "portico/answer_facts.hpp"
#include "telemetry/exposition.hpp"
#include "telemetry/trace_context.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = portico::fuzz::asView(data, size);
  portico::fuzz::noThrow("telemetry", "", [&] {
    if (auto parsed = portico::telemetry::parseTraceparent(input)) {
      const std::string again = portico::telemetry::formatTraceparent(
          parsed->trace_id, parsed->parent_id, parsed->sampled);
      auto reparsed = portico::telemetry::parseTraceparent(again);
      portico::fuzz::check(reparsed && reparsed->trace_id == parsed->trace_id &&
                               reparsed->parent_id == parsed->parent_id &&
                               reparsed->sampled == parsed->sampled,
                           "a parsed traceparent does not survive formatting");
    }
    portico::AnswerFacts facts;
    facts.takeFromEvents(input);
    facts.takeFromJson(input);
    portico::fuzz::check(
        facts.id.size() <= 128 && facts.model.size() <= 128 && facts.finish_reasons.size() <= 512,
        "answer facts grew past their bounds");
    std::string line;
    portico::telemetry::Exposition(line).sample("m", {{"model", input}}, std::uint64_t{1});
    portico::fuzz::check(line.find('\n') == line.size() - 1, "a label value broke the line");
    for (const char c : line.substr(0, line.size() - 1)) {
      portico::fuzz::check(
          static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f,
          "a label value left a byte that is not printable ASCII");
    }
  });
  return 0;
}
