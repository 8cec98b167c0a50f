#pragma once

#include <chrono>
#include <string>

#include "connection_deadline.hpp"
#include "http/answer_writer.hpp"

namespace portico::edge {

// Writes answers on a client connection. One per request: it knows the request's HTTP version,
// keep-alive and whether it was a HEAD (then no body is sent). Every answer leaves in as few
// gathered writes as it can: a complete answer's head and body in one, a stream's head with its
// first chunk, its last chunk with the terminating one. `scratch` is the connection's reused
// buffer for heads and chunk framing.
class BeastAnswerWriter final : public AnswerWriter {
 public:
  BeastAnswerWriter(TcpStream& stream,
                    ConnectionDeadline& deadline,
                    std::string& scratch,
                    unsigned version,
                    bool keep_alive,
                    bool head_only,
                    std::chrono::milliseconds write_timeout);

  Awaitable<bool> writeComplete(int status,
                                std::string_view content_type,
                                std::string body,
                                const HeaderList& headers) override;
  // The head waits, to leave with the first chunk (or the end, or a chunk-less flush).
  Awaitable<bool> writeStreamHead(int status,
                                  std::string_view content_type,
                                  const HeaderList& headers) override;
  Awaitable<bool> writeChunk(std::string_view bytes) override;
  Awaitable<bool> writeLastChunk(std::string_view bytes) override;

 private:
  // Writes the pending head (if any), `bytes` as one chunk (if not empty), and the terminating
  // chunk when `last`.
  Awaitable<bool> writeFramed(std::string_view bytes, bool last);

  // Writes within the write timeout, then clears it.
  Awaitable<bool> write(const auto& buffers);

  TcpStream& stream_;
  ConnectionDeadline& deadline_;
  std::string& scratch_;
  unsigned version_;
  bool keep_alive_;
  bool head_only_;
  std::chrono::milliseconds timeout_;
  bool head_pending_ = false;  // a stream's head is in scratch_, not yet written
};

}  // namespace portico::edge
