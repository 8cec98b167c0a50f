#include "http/request_parser.hpp"

#include <algorithm>

#include "portico/encoding.hpp"

namespace portico::edge {
namespace {

// A body's first reservation: what Content-Length says, up to this (the rest as it comes).
constexpr std::uint64_t kMaxReservedBodyBytes = 1024 * 1024;

}  // namespace

void RequestParser::on_request_impl(http::verb method,
                                    beast::string_view method_text,
                                    beast::string_view target,
                                    int version,
                                    beast::error_code&) {
  out_.method.assign(method_text.data(), method_text.size());
  out_.target.assign(target.data(), target.size());
  out_.version = static_cast<unsigned>(version);
  out_.head = method == http::verb::head;
  out_.body.clear();
  fields_ = 0;
}

void RequestParser::on_field_impl(http::field,
                                  beast::string_view name_text,
                                  beast::string_view value,
                                  beast::error_code&) {
  if (fields_ == out_.headers.size()) {
    out_.headers.emplace_back();
  }
  auto& [name, text] = out_.headers[fields_++];
  assignAsciiLower(name, name_text);
  text.assign(value.data(), value.size());
}

void RequestParser::on_header_impl(beast::error_code&) {
  out_.headers.resize(fields_);
  out_.keep_alive = keep_alive();
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      beast::error_code&) {
  if (content_length) {
    out_.body.reserve(static_cast<std::size_t>(std::min(*content_length, kMaxReservedBodyBytes)));
  }
}

std::size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code&) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t,
                                              beast::string_view body,
                                              beast::error_code&) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

std::optional<std::string> RequestParser::joinedTransferEncoding() const {
  std::optional<std::string> joined;
  for (const auto& [name, value] : out_.headers) {
    if (name != "transfer-encoding") {
      continue;
    }
    if (joined) {
      *joined += ", ";
      *joined += value;
    } else {
      joined = value;
    }
  }
  return joined;
}

}  // namespace portico::edge
