// Anthropic Messages SSE -> OpenAI chat.completion.chunk SSE.
#include <map>
#include <vector>

#include "anthropic/anthropic_adapter.hpp"
#include "common/stream_helpers.hpp"
#include "portico/json_parse.hpp"
#include "stream/sse_parser.hpp"

namespace portico::providers {

namespace {

using nlohmann::json;

constexpr std::string_view kProvider = "anthropic";

class AnthropicChatStream : public StreamTransformer {
 public:
  AnthropicChatStream(const ClientRequest& request, const Target& target)
      : created_(unixSeconds(request.now)), strict_(target.strict_open_ai_compliance) {
    if (request.body != nullptr && request.body->is_object()) {
      auto model = request.body->find("model");
      model_ = model != request.body->end() && model->is_string() ? model->get<std::string>() : "";
    }
    include_usage_ = wantsIncludeUsage(request.body);
    // Portkey's fallback id when the upstream never names its message.
    id_ = "anthropic-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            request.now.time_since_epoch())
                                            .count());
  }

  void feed(std::string_view bytes, std::string& out) override {
    if (done_) {
      return;
    }
    events_.clear();
    const bool ok = parser_.feed(bytes, events_);
    handleEvents(out);
    if (!ok && !done_) {
      fail(out, "stream event too large", "upstream_stream_error");
    }
  }

  void finish(bool complete, std::string& out) override {
    if (done_) {
      return;
    }
    events_.clear();
    parser_.finish(events_);
    handleEvents(out);
    if (done_) {
      return;
    }
    if (!complete) {
      fail(out, "the upstream stream was interrupted", "upstream_stream_error");
    } else if (finish_seen_) {
      // Finished but without message_stop: the answer is whole, so end it normally.
      end(out);
    } else {
      fail(out, "the upstream stream ended before the message was complete",
           "upstream_stream_error");
    }
  }

 private:
  void handleEvents(std::string& out) {
    for (const auto& event : events_) {
      if (done_) {
        return;
      }
      handle(event, out);
    }
  }

  void handle(const stream::SseParser::Event& event, std::string& out) {
    if (event.data.empty()) {
      return;  // ping frames without data, keep-alives
    }
    json data = parseJson(event.data);
    if (!data.is_object()) {
      return;  // not ours to understand; tolerated
    }
    std::string type = data.value("type", "");
    if (type.empty()) {
      type = event.event;
    }
    if (type == "message_start") {
      onMessageStart(data, out);
    } else if (type == "content_block_start") {
      onBlockStart(data, out);
    } else if (type == "content_block_delta") {
      onBlockDelta(data, out);
    } else if (type == "message_delta") {
      onMessageDelta(data, out);
    } else if (type == "message_stop") {
      end(out);
    } else if (type == "error") {
      const json& error =
          data.contains("error") && data["error"].is_object() ? data["error"] : json::object();
      fail(out, error.value("message", "unknown stream error"),
           error.value("type", "upstream_stream_error"));
    }
    // ping, content_block_stop and unknown events produce nothing.
  }

  void onMessageStart(const json& data, std::string& out) {
    if (auto message = data.find("message"); message != data.end() && message->is_object()) {
      if (std::string id = message->value("id", ""); !id.empty()) {
        id_ = std::move(id);
      }
      if (std::string model = message->value("model", ""); !model.empty()) {
        model_ = std::move(model);
      }
      if (auto usage = message->find("usage"); usage != message->end() && usage->is_object()) {
        mergeUsage(*usage);
      }
    }
    ensureStarted(out);
  }

  void onBlockStart(const json& data, std::string& out) {
    ensureStarted(out);
    const json& block = data.contains("content_block") ? data["content_block"] : json();
    if (!block.is_object()) {
      return;
    }
    const std::string type = block.value("type", "");
    if (type == "text") {
      if (std::string text = block.value("text", ""); !text.empty()) {
        emit(out, {{"content", text}});
      }
    } else if (type == "tool_use") {
      const int tool_index = next_tool_index_++;
      tool_index_by_block_[blockIndex(data)] = tool_index;
      emit(out, {{"tool_calls",
                  json::array(
                      {{{"index", tool_index},
                        {"id", block.value("id", "")},
                        {"type", "function"},
                        {"function", {{"name", block.value("name", "")}, {"arguments", ""}}}}})}});
    }
  }

  void onBlockDelta(const json& data, std::string& out) {
    ensureStarted(out);
    const json& delta = data.contains("delta") ? data["delta"] : json();
    if (!delta.is_object()) {
      return;
    }
    const std::string type = delta.value("type", "");
    if (type == "text_delta") {
      if (std::string text = delta.value("text", ""); !text.empty()) {
        emit(out, {{"content", text}});
      }
    } else if (type == "input_json_delta") {
      auto it = tool_index_by_block_.find(blockIndex(data));
      std::string partial = delta.value("partial_json", "");
      if (it != tool_index_by_block_.end() && !partial.empty()) {
        emit(out,
             {{"tool_calls",
               json::array({{{"index", it->second}, {"function", {{"arguments", partial}}}}})}});
      }
    } else if (!strict_ && (type == "thinking_delta" || type == "signature_delta")) {
      // Extras only outside strict mode: OpenAI clients have no field for them.
      json block_delta = json::object();
      if (type == "thinking_delta") {
        block_delta["thinking"] = delta.value("thinking", "");
      } else {
        block_delta["signature"] = delta.value("signature", "");
      }
      emit(out, {{"content_blocks",
                  json::array({{{"index", blockIndex(data)}, {"delta", block_delta}}})}});
    }
  }

  void onMessageDelta(const json& data, std::string& out) {
    ensureStarted(out);
    if (auto usage = data.find("usage"); usage != data.end() && usage->is_object()) {
      mergeUsage(*usage);
    }
    const json& delta = data.contains("delta") ? data["delta"] : json();
    json reason = delta.is_object() && delta.contains("stop_reason")
                      ? anthropicFinishReason(delta["stop_reason"], strict_)
                      : json();
    if (reason.is_null()) {
      return;
    }
    finish_seen_ = true;
    // Usage exactly once: on the finishing chunk, unless the client asked for OpenAI's separate
    // usage chunk (include_usage), which end() sends. message_delta carries the final counts.
    emit(out, json::object(), std::move(reason), include_usage_ ? json() : anthropicUsage(usage_));
  }

  void ensureStarted(std::string& out) {
    if (!started_) {
      started_ = true;
      emit(out, {{"role", "assistant"}, {"content", ""}});
    }
  }

  void emit(std::string& out, json delta, json finish_reason = nullptr, json usage = nullptr) {
    json chunk = chatChunk(id_, model_, created_, kProvider);
    chunk["choices"].push_back({{"index", 0},
                                {"delta", std::move(delta)},
                                {"logprobs", nullptr},
                                {"finish_reason", std::move(finish_reason)}});
    if (!usage.is_null()) {
      chunk["usage"] = std::move(usage);
    }
    out += sseData(chunk);
  }

  void end(std::string& out) {
    ensureStarted(out);
    if (include_usage_) {
      json chunk = chatChunk(id_, model_, created_, kProvider);
      chunk["usage"] = anthropicUsage(usage_);
      out += sseData(chunk);
    }
    out += sseDone();
    done_ = true;
  }

  void fail(std::string& out, std::string_view message, json type) {
    out += sseError(kProvider, message, std::move(type));
    done_ = true;
  }

  // message_start carries input and cache counts; message_delta carries the (cumulative)
  // output count and, on newer API versions, input counts too. Later values win.
  void mergeUsage(const json& usage) {
    for (const auto& [key, value] : usage.items()) {
      if (value.is_number_integer()) {
        usage_[key] = value;
      }
    }
  }

  static long long blockIndex(const json& data) {
    auto it = data.find("index");
    return it != data.end() && it->is_number_integer() ? it->get<long long>() : -1;
  }

  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  std::string id_;
  std::string model_;
  long long created_ = 0;
  bool strict_ = true;
  bool include_usage_ = false;
  bool started_ = false;
  bool finish_seen_ = false;
  bool done_ = false;
  int next_tool_index_ = 0;
  std::map<long long, int> tool_index_by_block_;
  json usage_ = json::object();
};

}  // namespace

std::unique_ptr<StreamTransformer> makeAnthropicChatStream(const ClientRequest& request,
                                                           const Target& target) {
  return std::make_unique<AnthropicChatStream>(request, target);
}

}  // namespace portico::providers
