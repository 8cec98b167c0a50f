#include "portico/target.hpp"

namespace portico {

std::string Target::option(const char* key, const char* alt_key) const {
  for (const char* name : {key, alt_key}) {
    if (name == nullptr) {
      continue;
    }
    auto it = options.find(name);
    if (it != options.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      return it->get<std::string>();
    }
  }
  return {};
}

}  // namespace portico
