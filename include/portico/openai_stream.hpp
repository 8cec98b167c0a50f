#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"
#include "portico/usage.hpp"

namespace portico::openai {

// The shared half of every stream translated into OpenAI chat.completion.chunk SSE. It owns the
// done flag, the chunk skeleton (id, model, created, provider), the opening role chunk,
// include_usage, tool-call indexes, [DONE] and the error event; a provider's translator only
// parses its own events (onBytes/onEnd) and calls the emit helpers.
//
// Usage goes out exactly once: on the finishing chunk, or, when the client asked for
// stream_options.include_usage, as OpenAI's separate `choices: []` chunk before [DONE]. Either
// way usage() reports it to the gateway.
class ChatStreamTranslator : public StreamTransformer {
 public:
  // `provider` is the id put on every chunk (and in errors); `fallback_id` is the chunk id used
  // until the upstream names its message. The model starts as the body's "model".
  ChatStreamTranslator(std::string provider, const ClientRequest& request, std::string fallback_id);

  void feed(std::string_view bytes, std::string& out) final;
  void finish(bool complete, std::string& out) final;
  std::optional<Usage> usage() const final;

 protected:
  // Upstream bytes, in any split. Called only while not done().
  virtual void onBytes(std::string_view bytes, std::string& out) = 0;
  // The upstream ended before the translator called end() or fail(). The default ends the
  // answer when a finish reason was emitted and the stream is complete, else fails with
  // "the upstream stream was interrupted" (broken) or `incompleteMessage()` (ended early).
  virtual void onEnd(bool complete, std::string& out);
  virtual std::string_view incompleteMessage() const {
    return "the upstream stream ended before the message was complete";
  }

  // Sends the opening {"role":"assistant","content":""} chunk once.
  void ensureStarted(std::string& out);
  // Counts the opening chunk as sent without sending it (a provider whose role goes out in its
  // own first delta, or a stream that must not get one).
  void markStarted() { started_ = true; }
  // One chunk with choices[0] = {index 0, delta, logprobs null, finish_reason}; `usage` is
  // attached when not null.
  void emit(std::string& out,
            nlohmann::json delta,
            nlohmann::json finish_reason = nullptr,
            nlohmann::json usage = nullptr);
  // emit(out, {{"content", text}}) without a JSON value for the delta: for the text deltas that
  // are most of a stream's events.
  void emitContent(std::string& out, std::string_view text);
  // The finishing chunk: empty delta, the reason, and the usage unless include_usage is set.
  void emitFinish(std::string& out, nlohmann::json finish_reason);
  // Ends the answer: the include_usage chunk when asked for, then [DONE].
  void end(std::string& out);
  // Ends the answer with the error event (no [DONE]), with the provider's error code if any.
  void fail(std::string& out,
            std::string_view message,
            nlohmann::json type = "upstream_stream_error",
            nlohmann::json code = nullptr);

  // The OpenAI tool_calls index for the provider's key of a tool call (block index, call id):
  // a new key gets the next index. `created` tells whether this call made it.
  int toolIndex(const std::string& key, bool* created = nullptr);
  // The index of a key already seen, or -1.
  int knownToolIndex(const std::string& key) const;

  // The OpenAI usage object to report (replaces the previous one).
  void setUsage(nlohmann::json openai_usage) { usage_ = std::move(openai_usage); }
  const nlohmann::json& usageJson() const { return usage_; }

  void setId(std::string id) {
    id_ = std::move(id);
    chunk_tail_.clear();
  }
  void setModel(std::string model) {
    model_ = std::move(model);
    chunk_tail_.clear();
  }
  const std::string& id() const { return id_; }
  const std::string& model() const { return model_; }
  const std::string& provider() const { return provider_; }
  long long created() const { return created_; }
  bool includeUsage() const { return include_usage_; }
  bool started() const { return started_; }
  bool finishSeen() const { return finish_seen_; }
  bool done() const { return done_; }
  // A chunk skeleton with this stream's id, model, created and provider.
  nlohmann::json chunk() const;

 private:
  const std::string& chunkTail();

  std::string provider_;
  std::string id_;
  std::string model_;
  long long created_ = 0;
  bool include_usage_ = false;
  bool started_ = false;
  bool finish_seen_ = false;
  bool done_ = false;
  nlohmann::json usage_;  // null until known
  // A chunk's text after its choices: created, id, model, object, provider; empty until used.
  std::string chunk_tail_;
  std::map<std::string, int, std::less<>> tool_indexes_;
};

}  // namespace portico::openai
