#include "http/beast_answer_writer.hpp"

#include "http/beast_http.hpp"
#include "http/header_lists.hpp"

namespace portico::edge {

struct BeastAnswerWriter::StreamState {
  http::response<http::empty_body> response;
};

BeastAnswerWriter::BeastAnswerWriter(beast::tcp_stream& stream,
                                     unsigned version,
                                     bool keep_alive,
                                     bool head_only,
                                     std::chrono::milliseconds write_timeout)
    : stream_(stream),
      version_(version),
      keep_alive_(keep_alive),
      head_only_(head_only),
      timeout_(write_timeout) {}

BeastAnswerWriter::~BeastAnswerWriter() = default;

Awaitable<bool> BeastAnswerWriter::writeComplete(int status,
                                                 std::string_view content_type,
                                                 std::string body,
                                                 const HeaderList& headers) {
  http::response<http::string_body> response;
  response.version(version_);
  response.result(static_cast<unsigned>(status));
  insertSafeHeaders(response.base(), headers);
  response.set(http::field::content_type, content_type);
  response.keep_alive(keep_alive_);
  response.body() = std::move(body);
  response.prepare_payload();
  stream_.expires_after(timeout_);
  if (head_only_) {
    // HEAD: the length of the body a GET would get, and no body.
    response.body().clear();
    http::response_serializer<http::string_body> serializer(response);
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, kUseTuple);
    co_return !ec;
  }
  auto [ec, n] = co_await http::async_write(stream_, response, kUseTuple);
  co_return !ec;
}

Awaitable<bool> BeastAnswerWriter::writeStreamHead(int status,
                                                   std::string_view content_type,
                                                   const HeaderList& headers) {
  streaming_ = std::make_unique<StreamState>();
  auto& response = streaming_->response;
  response.version(version_);
  response.result(static_cast<unsigned>(status));
  insertSafeHeaders(response.base(), headers);
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-cache");
  response.keep_alive(keep_alive_);
  response.chunked(true);
  http::response_serializer<http::empty_body> serializer(response);
  stream_.expires_after(timeout_);
  auto [ec, n] = co_await http::async_write_header(stream_, serializer, kUseTuple);
  co_return !ec;
}

Awaitable<bool> BeastAnswerWriter::writeChunk(std::string_view bytes) {
  if (bytes.empty()) {
    co_return true;  // an empty chunk would end the answer
  }
  stream_.expires_after(timeout_);
  auto [ec, n] = co_await net::async_write(
      stream_, http::make_chunk(net::const_buffer(bytes.data(), bytes.size())), kUseTuple);
  co_return !ec;
}

Awaitable<bool> BeastAnswerWriter::writeStreamEnd() {
  stream_.expires_after(timeout_);
  auto [ec, n] = co_await net::async_write(stream_, http::make_chunk_last(), kUseTuple);
  co_return !ec;
}

}  // namespace portico::edge
