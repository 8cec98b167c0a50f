#include "routing/load_balancer.hpp"

#include <algorithm>

namespace portico::routing {

std::optional<std::size_t> pickWeighted(const std::vector<ConfigNode>& targets,
                                        double unit_random) {
  double total = 0;
  std::optional<std::size_t> last_positive;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].weight > 0) {
      total += targets[i].weight;
      last_positive = i;
    }
  }
  if (!last_positive || !(total > 0)) {
    return std::nullopt;
  }
  double point = std::clamp(unit_random, 0.0, 1.0) * total;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const double weight = targets[i].weight;
    if (weight <= 0) {
      continue;
    }
    if (point < weight) {
      return i;
    }
    point -= weight;
  }
  // Rounding at the top of the range: the last target that can be chosen.
  return last_positive;
}

}  // namespace portico::routing
