#include "routing/fallback_policy.hpp"

#include <algorithm>

namespace portico::routing {

bool fallsBack(const ConfigNode& node, int status) {
  const auto& codes = node.strategy_on_status_codes;
  if (!codes.empty()) {
    return std::find(codes.begin(), codes.end(), status) != codes.end();
  }
  return status < 200 || status >= 300;
}

}  // namespace portico::routing
