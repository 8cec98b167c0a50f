// Bedrock converse-stream (binary AWS event-stream) -> OpenAI chat.completion.chunk SSE.
#include <optional>
#include <utility>
#include <vector>

#include "bedrock/bedrock_adapter.hpp"
#include "bedrock/bedrock_detail.hpp"
#include "portico/aws_eventstream_parser.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_stream.hpp"

namespace portico::providers::bedrock {

using nlohmann::json;

namespace {

using detail::clipped;
using detail::isString;
using detail::kProvider;
using detail::stringField;

json typeOr(std::string type) {
  return type.empty() ? json("upstream_stream_error") : json(std::move(type));
}

class BedrockChatStream final : public openai::ChatStreamTranslator {
 public:
  BedrockChatStream(const ClientRequest& request, bool strict, std::string id)
      : ChatStreamTranslator(std::string(kProvider), request, std::move(id)), strict_(strict) {}

 protected:
  void onBytes(std::string_view bytes, std::string& out) override {
    messages_.clear();
    const auto status = parser_.feed(bytes, messages_);
    // Messages decoded before a corrupt frame are still good.
    for (const auto& message : messages_) {
      if (done()) return;
      handle(message, out);
    }
    if (status == stream::AwsEventStreamParser::Status::kError && !done()) {
      fail(out, "invalid event stream from upstream: " + parser_.errorMessage());
    }
  }

  void onEnd(bool complete, std::string& out) override {
    if (!complete) {
      fail(out, "the upstream connection broke mid-stream");
    } else if (parser_.buffered() > 0) {
      fail(out, "the upstream stream ended inside an event-stream frame");
    } else if (!pending_finish_) {
      fail(out, "the upstream stream ended before messageStop");
    } else {
      finishMessage(out);  // messageStop came but no metadata: the answer is whole
    }
  }

 private:
  void handle(const stream::EventStreamMessage& message, std::string& out) {
    const std::string kind = message.header(":message-type");
    if (kind == "exception") {
      json payload = parseJson(message.payload);
      std::string text = stringField(payload, "message");
      if (text.empty()) text = stringField(payload, "Message");
      if (text.empty()) text = clipped(message.payload);
      fail(out, text, typeOr(message.header(":exception-type")));
    } else if (kind == "error") {
      fail(out, message.header(":error-message"), typeOr(message.header(":error-code")));
    } else if (kind == "event") {
      json payload = parseJson(message.payload);
      if (!payload.is_object()) {
        fail(out, "malformed event payload from upstream: " + clipped(message.payload));
        return;
      }
      handleEvent(message.header(":event-type"), payload, out);
    }
    // Unknown message types are ignored.
  }

  void handleEvent(std::string_view type, const json& payload, std::string& out) {
    if (type == "messageStart") {
      ensureStarted(out);
    } else if (type == "contentBlockStart") {
      onBlockStart(payload, out);
    } else if (type == "contentBlockDelta") {
      onBlockDelta(payload, out);
    } else if (type == "messageStop") {
      const std::string stop = stringField(payload, "stopReason");
      // Held until metadata, which follows with the usage: without include_usage the usage
      // goes on the finishing chunk (once), as for every other provider.
      pending_finish_ = strict_ || stop.empty() ? finishReason(stop) : stop;
    } else if (type == "metadata") {
      if (auto usage = payload.find("usage"); usage != payload.end() && usage->is_object()) {
        setUsage(bedrock::usage(*usage));
      }
      if (pending_finish_) {
        finishMessage(out);
      }
    }
    // contentBlockStop and unknown events carry nothing for the client.
  }

  void onBlockStart(const json& payload, std::string& out) {
    auto start = payload.find("start");
    if (start == payload.end() || !start->is_object() || !start->contains("toolUse")) return;
    const json& use = (*start)["toolUse"];
    const int index = toolIndex(blockKey(payload));
    emit(
        out,
        {{"tool_calls",
          json::array({{{"index", index},
                        {"id", stringField(use, "toolUseId")},
                        {"type", "function"},
                        {"function", {{"name", stringField(use, "name")}, {"arguments", ""}}}}})}});
  }

  void onBlockDelta(const json& payload, std::string& out) {
    auto delta = payload.find("delta");
    if (delta == payload.end() || !delta->is_object()) return;
    if (isString(*delta, "text")) {
      emit(out, {{"content", (*delta)["text"]}});
    } else if (delta->contains("toolUse") && (*delta)["toolUse"].is_object()) {
      // A delta without its start gets a slot rather than losing the arguments.
      const int index = toolIndex(blockKey(payload));
      emit(out, {{"tool_calls",
                  json::array({{{"index", index},
                                {"function",
                                 {{"arguments", stringField((*delta)["toolUse"], "input")}}}}})}});
    }
    // reasoningContent and other deltas have no OpenAI counterpart in strict mode.
  }

  static std::string blockKey(const json& payload) {
    auto it = payload.find("contentBlockIndex");
    return std::to_string(it != payload.end() && it->is_number_integer() ? it->get<long long>()
                                                                         : 0LL);
  }

  // The held finishing chunk, then the end of the answer.
  void finishMessage(std::string& out) {
    emitFinish(out, std::move(*pending_finish_));
    pending_finish_.reset();
    // The role chunk is messageStart's: a stream without one gets none, rather than end()
    // adding it after the finishing chunk.
    markStarted();
    end(out);
  }

  bool strict_;
  stream::AwsEventStreamParser parser_;
  std::vector<stream::EventStreamMessage> messages_;
  std::optional<std::string> pending_finish_;  // messageStop's finish_reason, until metadata
};

}  // namespace

std::unique_ptr<StreamTransformer> makeChatStream(const ClientRequest& request,
                                                  bool strict,
                                                  std::string id) {
  return std::make_unique<BedrockChatStream>(request, strict, std::move(id));
}

}  // namespace portico::providers::bedrock
