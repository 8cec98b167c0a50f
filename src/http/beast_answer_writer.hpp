#pragma once

#include <chrono>
#include <memory>

#include "http/answer_writer.hpp"

namespace portico::edge {

// Writes answers on a client connection with Beast. One per request: it knows the request's HTTP
// version, keep-alive and whether it was a HEAD (then no body is sent).
class BeastAnswerWriter final : public AnswerWriter {
 public:
  BeastAnswerWriter(beast::tcp_stream& stream,
                    unsigned version,
                    bool keep_alive,
                    bool head_only,
                    std::chrono::milliseconds write_timeout);
  ~BeastAnswerWriter() override;

  Awaitable<bool> writeComplete(int status,
                                std::string_view content_type,
                                std::string body,
                                const HeaderList& headers) override;
  Awaitable<bool> writeStreamHead(int status,
                                  std::string_view content_type,
                                  const HeaderList& headers) override;
  Awaitable<bool> writeChunk(std::string_view bytes) override;
  Awaitable<bool> writeStreamEnd() override;

 private:
  struct StreamState;
  beast::tcp_stream& stream_;
  unsigned version_;
  bool keep_alive_;
  bool head_only_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<StreamState> streaming_;  // the serializer of a streamed answer's head
};

}  // namespace portico::edge
