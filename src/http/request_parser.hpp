#pragma once

#include "http/beast_http.hpp"
#include "http/request_reader.hpp"

namespace portico::edge {

// Beast's request parser writing straight into an IncomingRequest the connection keeps: the
// header list's strings and the body keep their capacity from one request to the next, so a
// keep-alive request allocates nothing for what it looks like (Beast's own message type builds
// a field list per request, which was then copied again as lower-case pairs).
class RequestParser : public http::basic_parser<true> {
 public:
  explicit RequestParser(IncomingRequest& out) : out_(out) {}

  // Every Transfer-Encoding field line joined with ", ", as RFC 9110 reads repeated fields.
  std::optional<std::string> joinedTransferEncoding() const;

 private:
  void on_request_impl(http::verb method,
                       beast::string_view method_text,
                       beast::string_view target,
                       int version,
                       beast::error_code& ec) override;
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field name,
                     beast::string_view name_text,
                     beast::string_view value,
                     beast::error_code& ec) override;
  void on_header_impl(beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code& ec) override;
  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain,
                                 beast::string_view body,
                                 beast::error_code& ec) override;
  void on_finish_impl(beast::error_code&) override {}

  IncomingRequest& out_;
  std::size_t fields_ = 0;  // the header lines of this request so far
};

}  // namespace portico::edge
