#include "keys/shared_limits.hpp"

namespace portico::keys {
namespace {

std::optional<FailureMode> modeNamed(std::string_view name) {
  if (name == "open") {
    return FailureMode::kOpen;
  }
  if (name == "closed") {
    return FailureMode::kClosed;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SharedLimitSettings> parseFailureModes(std::string_view text,
                                                     SharedLimitSettings defaults,
                                                     std::string& why) {
  why = "--redis-failure-mode must be open, closed, or a list such as rate:open,budget:closed";
  if (auto both = modeNamed(text)) {
    defaults.rate = defaults.budget = *both;
    return defaults;
  }
  if (text.empty() || text.back() == ',') {
    return std::nullopt;
  }
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    const auto mode = modeNamed(item.substr(colon + 1));
    const std::string_view kind = item.substr(0, colon);
    if (!mode || (kind != "rate" && kind != "budget")) {
      return std::nullopt;
    }
    (kind == "rate" ? defaults.rate : defaults.budget) = *mode;
  }
  why.clear();
  return defaults;
}

}  // namespace portico::keys
