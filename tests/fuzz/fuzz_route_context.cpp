// parseRouteContext on arbitrary x-portkey-* headers must answer a RouteContext or a 400, never
// throw or crash, and what it accepts must re-serialise (the forwarder, cache and logs dump it).
// Input: one header per line, "name: value"; names are trimmed and lower-cased like Beast hands
// them over, a trailing '\r' is dropped.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "portico/route_context.hpp"

namespace {

portico::HeaderList parseHeaders(std::string_view text) {
  portico::HeaderList headers;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string name(line.substr(0, colon));
    std::erase_if(name, [](char c) { return c == ' ' || c == '\t'; });
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    headers.emplace_back(std::move(name), std::string(value));
  }
  return headers;
}

const portico::RouteContextOptions& options() {
  static const portico::RouteContextOptions o = [] {
    portico::RouteContextOptions out;
    out.config = portico::fuzz::configOptions();
    out.make_trace_id = [] { return std::string("trace-fuzz"); };
    return out;
  }();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const portico::HeaderList headers = parseHeaders(portico::fuzz::asView(data, size));
  portico::fuzz::noThrow("parseRouteContext", "", [&] {
    auto ctx = portico::parseRouteContext(headers, options());
    if (!ctx) {
      portico::fuzz::check(ctx.error().status >= 400 && ctx.error().status < 500,
                           "parseRouteContext: an error that is not a 4xx");
      (void)portico::fuzz::dumpJson(ctx.error().body);
      return;
    }
    (void)portico::fuzz::dumpJson(ctx->metadata);
    (void)portico::fuzz::dumpConfigTree(ctx->config);
  });
  return 0;
}
