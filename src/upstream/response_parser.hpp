#pragma once

#include <cstddef>
#include <string_view>

#include "http/beast_http.hpp"
#include "portico/http_types.hpp"

namespace portico::upstream {

// Beast's response parser writing the header straight into a HeaderList (lower-case names, in
// order), as the pipeline reads it, and the body into a buffer the caller lends for each read,
// as Beast's buffer_body does. Beast's own message type would build a field set per answer
// that was then copied again as lower-case pairs.
class ResponseParser : public http::basic_parser<false> {
 public:
  int status() const { return status_; }
  const HeaderList& headers() const { return headers_; }
  // The first value of a header, by its lower-case name ("" when absent).
  std::string_view header(std::string_view lower_name) const;

  // Where the next body bytes go, and how many fit; room() counts down as they arrive.
  void lend(char* data, std::size_t size) {
    data_ = data;
    room_ = size;
  }
  std::size_t room() const { return room_; }

 private:
  void on_request_impl(
      http::verb, beast::string_view, beast::string_view, int, beast::error_code&) override {}
  void on_response_impl(int code,
                        beast::string_view reason,
                        int version,
                        beast::error_code& ec) override;
  void on_field_impl(http::field name,
                     beast::string_view name_text,
                     beast::string_view value,
                     beast::error_code& ec) override;
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t,
                                 beast::string_view body,
                                 beast::error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(beast::error_code&) override {}

  int status_ = 0;
  HeaderList headers_;
  char* data_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace portico::upstream
