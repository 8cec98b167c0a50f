// Anthropic Messages SSE -> OpenAI chat.completion.chunk SSE.
#include <string>
#include <vector>

#include "anthropic/anthropic_adapter.hpp"
#include "portico/fast_json.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_stream.hpp"
#include "portico/openai_wire.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers {

namespace {

using nlohmann::json;

// Portkey's fallback id when the upstream never names its message.
std::string fallbackId(const ClientRequest& request) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(request.now.time_since_epoch());
  return "anthropic-" + std::to_string(ms.count());
}

long long blockIndex(const json& data) {
  auto it = data.find("index");
  return it != data.end() && it->is_number_integer() ? it->get<long long>() : -1;
}

class AnthropicChatStream final : public openai::ChatStreamTranslator {
 public:
  AnthropicChatStream(const ClientRequest& request, const Target& target, std::string provider)
      : ChatStreamTranslator(std::move(provider), request, fallbackId(request)),
        strict_(target.strict_open_ai_compliance) {}

 protected:
  void onBytes(std::string_view bytes, std::string& out) override {
    // Events the parser would only copy are read in place; the rest goes to the parser.
    std::string_view name;
    std::string_view data;
    while (!done() && parser_.takeWholeEvent(bytes, name, data)) {
      handle(name, data, out);
    }
    if (done() || bytes.empty()) {
      return;
    }
    events_.clear();
    const bool ok = parser_.feed(bytes, events_);
    handleEvents(out);
    if (!ok && !done()) {
      fail(out, "stream event too large");
    }
  }

  void onEnd(bool complete, std::string& out) override {
    events_.clear();
    parser_.finish(events_);
    handleEvents(out);
    if (!done()) {
      ensureUsage();
      ChatStreamTranslator::onEnd(complete, out);
    }
  }

 private:
  void handleEvents(std::string& out) {
    for (const auto& event : events_) {
      if (done()) {
        return;
      }
      handle(event.event, event.data, out);
    }
  }

  // Every event is read with simdjson; the ones most of a stream is made of (message start and
  // delta, text blocks, pings, stops) are answered from it, without an nlohmann tree: building,
  // dumping and freeing trees was most of a translated stream's CPU. Tool calls, thinking and
  // errors take the tree.
  void handle(std::string_view name, std::string_view text, std::string& out) {
    if (text.empty()) {
      return;  // ping frames without data, keep-alives
    }
    simdjson::dom::object data;
    if (fast_json::parse(text).get(data) != simdjson::SUCCESS) {
      return;  // not ours to understand; tolerated
    }
    std::string_view type;
    if (data["type"].get(type) != simdjson::SUCCESS || type.empty()) {
      type = name;
    }
    if (type == "message_start") {
      messageStart(data, out);
    } else if (type == "message_delta") {
      messageDelta(data, out);
    } else if (type == "message_stop") {
      ensureUsage();
      end(out);
    } else if (type == "content_block_start" || type == "content_block_delta") {
      if (!textBlock(data, type == "content_block_start", out)) {
        handleWithTree(std::string(type), parseJson(text), out);
      }
    } else if (type == "error") {
      handleWithTree("error", parseJson(text), out);
    }
    // ping, content_block_stop and unknown events produce nothing.
  }

  // A text block's start (its text mostly empty) or delta; false for any other block.
  bool textBlock(simdjson::dom::object data, bool start, std::string& out) {
    simdjson::dom::object block;
    std::string_view block_type;
    std::string_view text;
    if (data[start ? "content_block" : "delta"].get(block) != simdjson::SUCCESS ||
        block["type"].get(block_type) != simdjson::SUCCESS ||
        block_type != (start ? "text" : "text_delta") ||
        block["text"].get(text) != simdjson::SUCCESS) {
      return false;
    }
    ensureStarted(out);
    if (!text.empty()) {
      emitContent(out, text);
    }
    return true;
  }

  void handleWithTree(const std::string& type, const json& data, std::string& out) {
    if (type == "content_block_start") {
      onBlockStart(data, out);
    } else if (type == "content_block_delta") {
      onBlockDelta(data, out);
    } else {
      const json& error = member(data, "error").is_object() ? data["error"] : json::object();
      fail(out, error.value("message", "unknown stream error"),
           error.value("type", "upstream_stream_error"));
    }
  }

  void messageStart(simdjson::dom::object data, std::string& out) {
    simdjson::dom::object message;
    if (data["message"].get(message) != simdjson::SUCCESS) {
      ensureStarted(out);
      return;
    }
    std::string_view text;
    if (message["id"].get(text) == simdjson::SUCCESS && !text.empty()) {
      setId(std::string(text));
    }
    if (message["model"].get(text) == simdjson::SUCCESS && !text.empty()) {
      setModel(std::string(text));
    }
    mergeUsage(message["usage"]);
    ensureStarted(out);
  }

  void messageDelta(simdjson::dom::object data, std::string& out) {
    ensureStarted(out);
    mergeUsage(data["usage"]);
    std::string_view reason;  // a stop_reason that is no string finishes nothing
    if (data["delta"]["stop_reason"].get(reason) != simdjson::SUCCESS) {
      return;
    }
    // message_delta carries the final counts; the base puts them on this chunk, or on the
    // separate include_usage chunk.
    ensureUsage();
    emitFinish(out, anthropicFinishReason(std::string(reason), strict_));
  }

  // message_start carries input and cache counts; message_delta carries the (cumulative)
  // output count and, on newer API versions, input counts too. Later values win.
  void mergeUsage(simdjson::simdjson_result<simdjson::dom::element> usage) {
    simdjson::dom::object counts;
    if (usage.get(counts) != simdjson::SUCCESS) {
      return;
    }
    for (const auto field : counts) {
      std::int64_t signed_count = 0;
      std::uint64_t unsigned_count = 0;
      if (field.value.get(signed_count) == simdjson::SUCCESS) {
        raw_usage_[std::string(field.key)] = signed_count;
      } else if (field.value.get(unsigned_count) == simdjson::SUCCESS) {
        raw_usage_[std::string(field.key)] = unsigned_count;
      }
    }
    setUsage(anthropicUsage(raw_usage_));
  }

  void onBlockStart(const json& data, std::string& out) {
    ensureStarted(out);
    const json& block = member(data, "content_block");
    if (!block.is_object()) {
      return;
    }
    const std::string type = block.value("type", "");
    if (type == "text") {
      if (std::string text = block.value("text", ""); !text.empty()) {
        emit(out, {{"content", text}});
      }
    } else if (type == "tool_use") {
      const int index = toolIndex(std::to_string(blockIndex(data)));
      emit(out, {{"tool_calls",
                  json::array(
                      {{{"index", index},
                        {"id", block.value("id", "")},
                        {"type", "function"},
                        {"function", {{"name", block.value("name", "")}, {"arguments", ""}}}}})}});
    }
  }

  void onBlockDelta(const json& data, std::string& out) {
    ensureStarted(out);
    const json& delta = member(data, "delta");
    if (!delta.is_object()) {
      return;
    }
    const std::string type = delta.value("type", "");
    if (type == "text_delta") {
      if (std::string text = delta.value("text", ""); !text.empty()) {
        emit(out, {{"content", text}});
      }
    } else if (type == "input_json_delta") {
      const int index = knownToolIndex(std::to_string(blockIndex(data)));
      std::string partial = delta.value("partial_json", "");
      if (index >= 0 && !partial.empty()) {
        emit(out, {{"tool_calls",
                    json::array({{{"index", index}, {"function", {{"arguments", partial}}}}})}});
      }
    } else if (!strict_ && (type == "thinking_delta" || type == "signature_delta")) {
      // Extras only outside strict mode: OpenAI clients have no field for them.
      const char* key = type == "thinking_delta" ? "thinking" : "signature";
      json block_delta = {{key, delta.value(key, "")}};
      emit(out, {{"content_blocks",
                  json::array({{{"index", blockIndex(data)}, {"delta", block_delta}}})}});
    }
  }

  // A usage object goes out with the answer even when the upstream sent no counts (zeros).
  void ensureUsage() {
    if (usageJson().is_null()) {
      setUsage(anthropicUsage(raw_usage_));
    }
  }

  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  bool strict_ = true;
  json raw_usage_ = json::object();
};

// Relays Anthropic's SSE as it came, reading the usage on the way.
class AnthropicMessagesStream final : public StreamTransformer {
 public:
  explicit AnthropicMessagesStream(std::string provider) : provider_(std::move(provider)) {}

  void feed(std::string_view bytes, std::string& out) override {
    if (ended_) {
      return;
    }
    events_.clear();
    const bool ok = parser_.feed(bytes, events_);
    relay(out);
    if (!ok) {
      fail("stream event too large", out);
    }
  }

  void finish(bool complete, std::string& out) override {
    if (ended_) {
      return;
    }
    if (!complete) {
      fail("the upstream stream was interrupted", out);
      return;
    }
    events_.clear();
    parser_.finish(events_);
    relay(out);
    ended_ = true;
  }

  std::optional<Usage> usage() const override { return usage_; }

 private:
  void relay(std::string& out) {
    for (const auto& event : events_) {
      if (event.data.empty() || !isJson(event.data)) {
        continue;  // Anthropic's events carry JSON data; anything else is not passed on
      }
      if (event.event == "message_start" || event.event == "message_delta") {
        readUsage(event);
      }
      openai::appendSseEvent(event.event, event.data, out);
    }
  }

  void readUsage(const stream::SseParser::Event& event) {
    const json data = parseJson(event.data);
    const json& holder = event.event == "message_start" ? member(data, "message") : data;
    const json& usage = holder.is_object() ? member(holder, "usage") : json();
    if (!usage.is_object()) {
      return;
    }
    for (const auto& [key, value] : usage.items()) {
      if (value.is_number_integer()) {
        raw_usage_[key] = value;  // later values win, as in the chat stream
      }
    }
    usage_ = anthropicUsageCounts(raw_usage_);
  }

  void fail(std::string_view message, std::string& out) {
    out += openai::sseError(provider_, message);
    ended_ = true;
  }

  std::string provider_;
  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  json raw_usage_ = json::object();
  std::optional<Usage> usage_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<StreamTransformer> makeAnthropicMessagesStream(std::string_view provider) {
  return std::make_unique<AnthropicMessagesStream>(std::string(provider));
}

std::unique_ptr<StreamTransformer> makeAnthropicChatStream(const ClientRequest& request,
                                                           const Target& target,
                                                           std::string_view provider) {
  return std::make_unique<AnthropicChatStream>(request, target, std::string(provider));
}

}  // namespace portico::providers
