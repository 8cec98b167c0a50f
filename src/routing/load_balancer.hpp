#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "portico/config.hpp"

namespace portico::routing {

// Weighted random choice among `targets` (their `weight`), given `unit_random` in [0, 1).
// Targets of weight <= 0 are never chosen; nullopt when every weight is 0.
std::optional<std::size_t> pickWeighted(const std::vector<ConfigNode>& targets, double unit_random);

}  // namespace portico::routing
