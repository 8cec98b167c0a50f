#include "http/answer_headers.hpp"

#include <algorithm>
#include <array>

namespace portico::edge {

bool isDroppedAnswerHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kDropped = {"connection",
                                                                "keep-alive",
                                                                "transfer-encoding",
                                                                "content-length",
                                                                "content-encoding",
                                                                "content-type",
                                                                "set-cookie",
                                                                "server",
                                                                "date",
                                                                "alt-svc",
                                                                "strict-transport-security"};
  return name.starts_with("x-portkey-") ||
         std::find(kDropped.begin(), kDropped.end(), name) != kDropped.end();
}

HeaderList passOnAnswerHeaders(const HeaderList& upstream_headers) {
  HeaderList out;
  out.reserve(upstream_headers.size());
  for (const auto& [name, value] : upstream_headers) {
    if (!isDroppedAnswerHeader(name)) {
      out.emplace_back(name, value);
    }
  }
  return out;
}

}  // namespace portico::edge
