#pragma once

#include <string>
#include <string_view>

#include "net.hpp"
#include "portico/http_types.hpp"

namespace portico::edge {

// How the pipeline answers its client, without seeing Beast: one complete answer, or a streamed
// one (head, chunks, end). Each call returns false when the client connection can no longer be
// used; the writer applies the write timeout.
class AnswerWriter {
 public:
  virtual ~AnswerWriter() = default;

  // A complete answer; `body` is moved into the message, not copied.
  virtual Awaitable<bool> writeComplete(int status,
                                        std::string_view content_type,
                                        std::string body,
                                        const HeaderList& headers) = 0;

  // A streamed answer: the head (chunked, no-cache), then its chunks, then the last chunk with
  // the end in one write. A writer may hold the head back to send it with the first chunk;
  // writeChunk("") sends what it holds, writeLastChunk("") just the end.
  virtual Awaitable<bool> writeStreamHead(int status,
                                          std::string_view content_type,
                                          const HeaderList& headers) = 0;
  virtual Awaitable<bool> writeChunk(std::string_view bytes) = 0;
  virtual Awaitable<bool> writeLastChunk(std::string_view bytes) = 0;
};

}  // namespace portico::edge
