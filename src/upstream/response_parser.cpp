#include "upstream/response_parser.hpp"

#include <algorithm>
#include <cstring>

#include "portico/encoding.hpp"

namespace portico::upstream {

std::string_view ResponseParser::header(std::string_view lower_name) const {
  return findHeader(headers_, lower_name).value_or("");
}

void ResponseParser::on_response_impl(int code, beast::string_view, int, beast::error_code&) {
  status_ = code;
}

void ResponseParser::on_field_impl(http::field,
                                   beast::string_view name_text,
                                   beast::string_view value,
                                   beast::error_code&) {
  auto& [name, text] = headers_.emplace_back();
  assignAsciiLower(name, name_text);
  text.assign(value.data(), value.size());
}

// As Beast's buffer_body: what does not fit waits in the parser's input for the next loan.
std::size_t ResponseParser::on_body_impl(beast::string_view body, beast::error_code& ec) {
  if (data_ == nullptr) {
    ec = http::error::need_buffer;
    return 0;
  }
  const std::size_t taken = std::min(room_, body.size());
  if (taken > 0) {  // an empty piece may come with no data pointer at all
    std::memcpy(data_, body.data(), taken);
  }
  data_ += taken;
  room_ -= taken;
  if (taken < body.size()) {
    ec = http::error::need_buffer;
  }
  return taken;
}

}  // namespace portico::upstream
