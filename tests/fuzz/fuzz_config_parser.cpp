// parseConfig on arbitrary x-portkey-config text must answer a config or a 400, never throw or
// crash, and every JSON value of an accepted config must re-serialise (the forwarder and the
// response cache dump override_params, provider options and condition queries).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "portico/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const portico::ConfigParseOptions options = portico::fuzz::configOptions();
  portico::fuzz::noThrow("parseConfig", "", [&] {
    auto config = portico::parseConfig(portico::fuzz::asView(data, size), options);
    if (!config) {
      portico::fuzz::check(config.error().status >= 400 && config.error().status < 500,
                           "parseConfig: an error that is not a 4xx");
      (void)portico::fuzz::dumpJson(config.error().body);
      return;
    }
    (void)portico::fuzz::dumpConfigTree(config.value());
  });
  return 0;
}
