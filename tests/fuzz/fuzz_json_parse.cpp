// parseJson is how Portico reads JSON off the wire: for any bytes it must answer (discarded or a
// value) without throwing or crashing, and a value it accepts must be shallow enough to dump
// (nlohmann's dump recurses once per level) and be accepted again in its dumped form.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "portico/json_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  portico::fuzz::noThrow("parseJson", "", [&] {
    const nlohmann::json value = portico::parseJson(portico::fuzz::asView(data, size));
    if (value.is_discarded()) {
      return;
    }
    const std::string text = portico::fuzz::dumpJson(value);
    portico::fuzz::check(!portico::parseJson(text).is_discarded(),
                         "parseJson rejects the dump of a value it accepted");
  });
  return 0;
}
