// The SSRF guard and the base-URL parser see client-chosen URLs (x-portkey-custom-host, config
// custom_host): CustomHostPolicy::isAllowed and parseBaseUrl must answer for any bytes, never
// throw, crash or trip a Boost.URL assert. When the input has a newline, its first line is also
// used as a TRUSTED_CUSTOM_HOSTS list and the rest as the URL, so the list parsing is reached.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/http_types.hpp"

namespace {

void judge(const portico::CustomHostPolicy& policy, std::string_view url) {
  (void)policy.isAllowed(url);
  if (auto parsed = portico::parseBaseUrl(url)) {
    portico::fuzz::check(parsed->scheme == "http" || parsed->scheme == "https",
                         "parseBaseUrl: a scheme other than http(s)");
    portico::fuzz::check(!parsed->host.empty(), "parseBaseUrl: an empty host");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = portico::fuzz::asView(data, size);
  portico::fuzz::noThrow("custom host checks", "", [&] {
    judge(portico::fuzz::defaultHostPolicy(), input);
    if (auto newline = input.find('\n'); newline != std::string_view::npos) {
      const portico::CustomHostPolicy policy(
          portico::CustomHostPolicy::parseList(input.substr(0, newline)));
      judge(policy, input.substr(newline + 1));
    }
  });
  return 0;
}
