// OpenAI chat.completion.chunk SSE -> Anthropic Messages SSE.
#include <map>
#include <string>
#include <string_view>

#include "apis/chat_stream_bridge.hpp"
#include "apis/messages_api.hpp"
#include "apis/messages_detail.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::apis::messages {
namespace {

using nlohmann::json;

const json& firstChoice(const json& chunk) {
  static const json kNull;
  const json& choices = member(chunk, "choices");
  if (!choices.is_array()) {
    return kNull;
  }
  for (const auto& choice : choices) {
    // Only the first choice is an Anthropic message (Messages has no `n`).
    if (const json& index = member(choice, "index"); index.is_null() || index == 0) {
      return choice;
    }
  }
  return kNull;
}

const std::string* nonEmptyString(const json& value) {
  return value.is_string() && !value.get_ref<const std::string&>().empty()
             ? &value.get_ref<const std::string&>()
             : nullptr;
}

// Anthropic's event sequence from chat deltas: message_start on the first chunk, one content
// block per run of reasoning, text or one tool call (indexes counting up from 0, each closed
// when the next opens), then message_delta and message_stop once the chat stream is over.
class MessagesStream final : public ChatStreamBridge {
 public:
  MessagesStream(const json& request, std::unique_ptr<StreamTransformer> inner)
      : ChatStreamBridge(std::move(inner)), model_(member(request, "model")) {
    if (!model_.is_string()) {
      model_ = "";
    }
  }

 protected:
  void onChunk(const json& chunk, std::string& out) override {
    if (const json& model = member(chunk, "model"); !started_ && nonEmptyString(model)) {
      model_ = model;
    }
    start(out);
    const json& choice = firstChoice(chunk);
    const json& delta = member(choice, "delta");
    const std::string* thinking = nonEmptyString(member(delta, "reasoning_content"));
    if (thinking == nullptr) {
      thinking = nonEmptyString(member(delta, "reasoning"));  // Groq's and OpenRouter's name
    }
    if (thinking != nullptr) {
      openBlock(Kind::kThinking, {{"type", "thinking"}, {"thinking", ""}}, out);
      writeDelta(open_index_, {{"type", "thinking_delta"}, {"thinking", *thinking}}, out);
    }
    if (const std::string* text = nonEmptyString(member(delta, "content"))) {
      openBlock(Kind::kText, {{"type", "text"}, {"text", ""}}, out);
      writeDelta(open_index_, {{"type", "text_delta"}, {"text", *text}}, out);
    }
    if (const json& calls = member(delta, "tool_calls"); calls.is_array()) {
      for (std::size_t i = 0; i < calls.size() && !stopped(); ++i) {
        onToolCall(calls[i], i, out);
      }
      if (stopped()) {
        return;
      }
    }
    if (const json& reason = member(choice, "finish_reason"); !reason.is_null()) {
      finish_reason_ = reason;
    }
  }

  void onError(const json& error, std::string& out) override {
    const json& inner = member(error, "error");
    const json& fields = inner.is_object() ? inner : error;
    std::string message = "the upstream stream failed";
    if (const std::string* text = nonEmptyString(member(fields, "message"))) {
      message = *text;
    } else if (const std::string* plain = nonEmptyString(inner)) {
      message = *plain;
    }
    writeError(detail::errorTypeFromChat(fields), message, out);
  }

  void onEnd(bool saw_done, bool complete, std::string& out) override {
    // [DONE] means the chat answer is whole; otherwise it needs a finish reason and an upstream
    // that did not break.
    if (!saw_done && !(complete && !finish_reason_.is_null())) {
      writeError("api_error",
                 complete ? "the upstream stream ended before the message was complete"
                          : "the upstream stream was interrupted",
                 out);
      return;
    }
    start(out);
    closeBlock(out);
    writeEvent(out, "message_delta",
               {{"type", "message_delta"},
                {"delta",
                 {{"stop_reason", detail::stopReason(finish_reason_, tool_count_ > 0)},
                  {"stop_sequence", nullptr}}},
                {"usage", detail::usageJson(usage())}});
    writeEvent(out, "message_stop", {{"type", "message_stop"}});
  }

 private:
  enum class Kind { kNone, kThinking, kText, kTool };

  // The chat stream reports usage only at its end, so message_start carries zeros; the counts
  // go out on message_delta (which the Anthropic SDKs read them from).
  void start(std::string& out) {
    if (started_) {
      return;
    }
    started_ = true;
    writeEvent(out, "message_start",
               {{"type", "message_start"},
                {"message",
                 {{"id", openai::newId("msg_")},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", model_},
                  {"content", json::array()},
                  {"stop_reason", nullptr},
                  {"stop_sequence", nullptr},
                  {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}}}});
  }

  // Makes a block of `kind` the open one, unless it already is (tool blocks always start
  // anew: each call is its own block).
  void openBlock(Kind kind, json content_block, std::string& out) {
    if (open_ == kind && kind != Kind::kTool) {
      return;
    }
    closeBlock(out);
    open_ = kind;
    open_index_ = next_index_++;
    writeEvent(out, "content_block_start",
               {{"type", "content_block_start"},
                {"index", open_index_},
                {"content_block", std::move(content_block)}});
  }

  void closeBlock(std::string& out) {
    if (open_ == Kind::kNone) {
      return;
    }
    writeEvent(out, "content_block_stop", {{"type", "content_block_stop"}, {"index", open_index_}});
    open_ = Kind::kNone;
  }

  void writeDelta(int index, json delta, std::string& out) {
    writeEvent(out, "content_block_delta",
               {{"type", "content_block_delta"}, {"index", index}, {"delta", std::move(delta)}});
  }

  // A tool_calls delta: a chat index not seen before opens a tool_use block; argument pieces
  // are input_json_delta events on the call's block.
  void onToolCall(const json& call, std::size_t position, std::string& out) {
    if (!call.is_object()) {
      return;
    }
    const json& index = member(call, "index");
    const long long key =
        index.is_number_integer() ? index.get<long long>() : static_cast<long long>(position);
    const json& function = member(call, "function");
    const std::string* id = nonEmptyString(member(call, "id"));
    auto found = tool_blocks_.find(key);
    // A known index with another call's id is a new call: some providers number every call 0.
    if (found == tool_blocks_.end() || (id != nullptr && *id != found->second.id)) {
      if (tool_count_ >= kMaxToolCalls) {
        stopWith("the upstream sent more tool calls than Portico translates", out);
        return;
      }
      ++tool_count_;
      const std::string* name = nonEmptyString(member(function, "name"));
      const std::string block_id = id ? *id : openai::newId("toolu_");
      openBlock(Kind::kTool,
                {{"type", "tool_use"},
                 {"id", block_id},
                 {"name", name ? *name : std::string()},
                 {"input", json::object()}},
                out);
      found = tool_blocks_.insert_or_assign(key, ToolBlock{open_index_, block_id}).first;
    }
    if (const std::string* arguments = nonEmptyString(member(function, "arguments"))) {
      // Providers stream one call after another; a piece for a call whose block was already
      // closed still goes to that block's index, where clients accumulate by index.
      writeDelta(found->second.index, {{"type", "input_json_delta"}, {"partial_json", *arguments}},
                 out);
    }
  }

  void writeError(std::string_view type, std::string_view message, std::string& out) {
    writeEvent(out, "error",
               {{"type", "error"},
                {"error", {{"type", std::string(type)}, {"message", std::string(message)}}}});
  }

  json model_;
  bool started_ = false;
  Kind open_ = Kind::kNone;
  int open_index_ = -1;
  int next_index_ = 0;
  struct ToolBlock {
    int index;       // the content block's
    std::string id;  // the tool_use id
  };
  static constexpr int kMaxToolCalls = 128;
  std::map<long long, ToolBlock> tool_blocks_;  // chat tool_calls index -> its latest call
  int tool_count_ = 0;
  json finish_reason_;  // null until a choice finishes
};

}  // namespace

std::unique_ptr<StreamTransformer> streamFromChat(const json& request,
                                                  std::unique_ptr<StreamTransformer> inner) {
  return std::make_unique<MessagesStream>(request, std::move(inner));
}

}  // namespace portico::apis::messages
