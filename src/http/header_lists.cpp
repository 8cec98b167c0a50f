#include "http/header_lists.hpp"

#include "portico/encoding.hpp"
#include "portico/header_hygiene.hpp"

namespace portico::edge {

HeaderList toHeaderList(const http::fields& fields) {
  HeaderList out;
  for (const auto& field : fields) {
    out.emplace_back(asciiLower(field.name_string()), std::string(field.value()));
  }
  return out;
}

void insertSafeHeaders(http::fields& fields, const HeaderList& headers) {
  for (const auto& [name, value] : headers) {
    if (isValidHeaderName(name) && isValidHeaderValue(value)) {
      fields.insert(name, value);
    }
  }
}

}  // namespace portico::edge
