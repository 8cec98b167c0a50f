// parseJson is how Portico reads JSON off the wire: for any bytes it must answer (discarded or a
// value) without throwing or crashing, and a value it accepts must be shallow enough to dump
// (nlohmann's dump recurses once per level) and be accepted again in its dumped form. Small
// documents are read by simdjson and built into the tree, so what it builds or refuses must be
// exactly what nlohmann's own parser would (within the depth bound).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "portico/json_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  portico::fuzz::noThrow("parseJson", "", [&] {
    const std::string_view input = portico::fuzz::asView(data, size);
    const nlohmann::json value = portico::parseJson(input);
    // Too deep is discarded, whichever parser saw it first.
    portico::fuzz::check(portico::jsonDepthWithin(input) || value.is_discarded(),
                         "parseJson accepts a document nested too deep", input);
    if (portico::jsonDepthWithin(input)) {
      const auto theirs = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
      portico::fuzz::check(value.is_discarded() == theirs.is_discarded(),
                           "parseJson and nlohmann disagree on whether this is JSON", input);
      if (!value.is_discarded()) {
        portico::fuzz::check(portico::fuzz::dumpJson(value) == portico::fuzz::dumpJson(theirs),
                             "parseJson builds another tree than nlohmann", input);
      }
    }
    if (value.is_discarded()) {
      return;
    }
    const std::string text = portico::fuzz::dumpJson(value);
    portico::fuzz::check(!portico::parseJson(text).is_discarded(),
                         "parseJson rejects the dump of a value it accepted");
  });
  return 0;
}
