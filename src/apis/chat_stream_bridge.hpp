#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"
#include "portico/sse_parser.hpp"

namespace portico::apis {

// The base of every stream that answers in another API's format (Responses, Messages) from a
// provider's chat stream. The provider's own transformer (or none, for an upstream that already
// speaks OpenAI chat SSE) turns upstream bytes into chat.completion.chunk events; this base parses
// those and hands each chunk to the API's writer, which appends its own events.
class ChatStreamBridge : public StreamTransformer {
 public:
  // `inner` may be null: the upstream bytes are chat SSE already. A writer that keeps what it
  // has sent (the Responses API repeats the whole answer at its end) sets `max_chat_bytes`:
  // past it the stream fails instead of growing without bound; 0 is no limit.
  explicit ChatStreamBridge(std::unique_ptr<StreamTransformer> inner,
                            std::size_t max_chat_bytes = 0);

  void feed(std::string_view bytes, std::string& out) final;
  void finish(bool complete, std::string& out) final;
  // The inner transformer's usage when it reports one, else the last `usage` seen on a chunk.
  std::optional<Usage> usage() const final;

 protected:
  // One chat.completion.chunk object (choices may be empty: the usage chunk).
  virtual void onChunk(const nlohmann::json& chunk, std::string& out) = 0;
  // An error event in the chat stream: the parsed `data` (usually {"error":{message,type,...}});
  // after it the bridge passes nothing more on.
  virtual void onError(const nlohmann::json& error, std::string& out) = 0;
  // The chat stream is over: `saw_done` when it ended with [DONE], `complete` false when the
  // upstream broke or timed out. Called once, unless onError was.
  virtual void onEnd(bool saw_done, bool complete, std::string& out) = 0;

  // Ends the stream from a writer (a limit it keeps was passed): onError with `message`, then
  // nothing more is passed on.
  void stopWith(std::string_view message, std::string& out);
  bool stopped() const { return stopped_; }

  // Appends "event: <type>\ndata: <json>\n\n".
  static void writeEvent(std::string& out, std::string_view type, const nlohmann::json& data);

 private:
  void consume(std::string_view chat_sse, std::string& out);
  void handle(const stream::SseParser::Event& event, std::string& out);

  std::unique_ptr<StreamTransformer> inner_;
  stream::SseParser parser_;
  std::string chat_;  // the inner transformer's output, reused
  std::optional<Usage> chunk_usage_;
  std::size_t max_chat_bytes_;
  std::size_t chat_bytes_ = 0;
  bool saw_done_ = false;
  bool stopped_ = false;  // an error was passed on, or the end was
};

}  // namespace portico::apis
