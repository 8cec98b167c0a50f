// Cohere v2 chat SSE -> OpenAI chat.completion.chunk SSE.
#include <string>
#include <utility>
#include <vector>

#include "cohere/cohere_adapter.hpp"
#include "cohere/cohere_mapping.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_stream.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers {

namespace {

using nlohmann::json;

// delta.message.<key>, or null.
json messageDelta(const json& data, const char* key) {
  auto delta = data.find("delta");
  if (delta == data.end() || !delta->is_object()) {
    return nullptr;
  }
  auto message = delta->find("message");
  if (message == delta->end() || !message->is_object()) {
    return nullptr;
  }
  auto it = message->find(key);
  return it == message->end() ? json(nullptr) : *it;
}

// Cohere sends one tool call per event as an object; tolerate a one-element array too.
json singleToolCall(const json& value) {
  if (value.is_array()) {
    return value.empty() ? json(nullptr) : value.front();
  }
  return value.is_object() ? value : json(nullptr);
}

std::string stringAt(const json& object, const char* key) {
  if (!object.is_object()) {
    return {};
  }
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Portkey's fallback id when the upstream never names its message.
std::string fallbackId(const ClientRequest& request) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(request.now.time_since_epoch());
  return "cohere-" + std::to_string(ms.count());
}

class CohereChatStream final : public openai::ChatStreamTranslator {
 public:
  CohereChatStream(const ClientRequest& request, const Target& target)
      : ChatStreamTranslator(std::string(cohere::kId), request, fallbackId(request)),
        strict_(target.strict_open_ai_compliance) {}

 protected:
  void onBytes(std::string_view bytes, std::string& out) override {
    events_.clear();
    if (!parser_.feed(bytes, events_)) {
      fail(out, "the stream sent an event larger than the gateway accepts");
      return;
    }
    handleEvents(out);
  }

  void onEnd(bool complete, std::string& out) override {
    events_.clear();
    parser_.finish(events_);
    handleEvents(out);
    if (!done()) {
      // Without message-end the answer is cut short: say so rather than end cleanly.
      fail(out, complete ? "the stream ended before message-end"
                         : "the connection to cohere broke during the stream");
    }
  }

 private:
  void handleEvents(std::string& out) {
    for (const auto& event : events_) {
      if (done()) {
        return;
      }
      try {
        handle(event, out);
      } catch (const json::exception&) {
        // A frame of an unexpected shape is skipped, never fatal.
      }
    }
  }

  void handle(const stream::SseParser::Event& event, std::string& out) {
    json data = parseJson(event.data);
    if (!data.is_object()) {
      if (event.event == "error") {
        fail(out, event.data.empty() ? "error event" : event.data);
      }
      return;  // keep-alives and other non-JSON frames
    }
    std::string type = stringAt(data, "type");
    if (type.empty()) {
      type = event.event;
    }
    if (type == "message-start") {
      if (std::string id = stringAt(data, "id"); !id.empty()) {
        setId(std::move(id));
      }
      ensureStarted(out);
    } else if (type == "content-delta") {
      if (std::string text = stringAt(messageDelta(data, "content"), "text"); !text.empty()) {
        emit(out, {{"content", std::move(text)}});
      }
    } else if (type == "tool-plan-delta") {
      const json plan = messageDelta(data, "tool_plan");
      if (!strict_ && plan.is_string() && !plan.empty()) {
        emit(out, {{"tool_plan", plan}});
      }
    } else if (type == "tool-call-start") {
      onToolCallStart(data, out);
    } else if (type == "tool-call-delta") {
      onToolCallDelta(data, out);
    } else if (type == "message-end") {
      onMessageEnd(data, out);
    } else if (type == "error") {
      onError(data, out);
    }
    // content-start, content-end, tool-call-end, citation-*, debug and unknown events carry
    // nothing an OpenAI client reads.
  }

  void onToolCallStart(const json& data, std::string& out) {
    const json call = singleToolCall(messageDelta(data, "tool_calls"));
    const json function = call.is_object() ? call.value("function", json::object()) : json();
    // Cohere streams one call at a time: each start opens the next index.
    current_tool_ = toolIndex(std::to_string(tool_starts_++));
    json tool_call = {
        {"index", current_tool_},
        {"id", stringAt(call, "id")},
        {"type", "function"},
        {"function",
         {{"name", stringAt(function, "name")}, {"arguments", stringAt(function, "arguments")}}}};
    emit(out, {{"tool_calls", json::array({std::move(tool_call)})}});
  }

  void onToolCallDelta(const json& data, std::string& out) {
    const json call = singleToolCall(messageDelta(data, "tool_calls"));
    std::string arguments =
        stringAt(call.is_object() ? call.value("function", json::object()) : json(), "arguments");
    if (!arguments.empty()) {
      json tool_call = {{"index", current_tool_ < 0 ? 0 : current_tool_},
                        {"function", {{"arguments", std::move(arguments)}}}};
      emit(out, {{"tool_calls", json::array({std::move(tool_call)})}});
    }
  }

  void onMessageEnd(const json& data, std::string& out) {
    const json delta = data.value("delta", json::object());
    std::string reason = stringAt(delta, "finish_reason");
    if (reason == "ERROR") {
      std::string message = stringAt(delta, "error");
      fail(out, message.empty() ? "the generation failed (finish_reason ERROR)" : message);
      return;
    }
    if (delta.is_object()) {
      if (json usage = cohereUsageToOpenAi(delta.value("usage", json())); !usage.is_null()) {
        setUsage(std::move(usage));
      }
    }
    // Usage rides on the finish chunk, or (include_usage) on OpenAI's own chunk after it.
    emitFinish(out, mapCohereFinishReason(reason, strict_));
    end(out);
  }

  void onError(const json& data, std::string& out) {
    std::string message = stringAt(data, "message");
    if (message.empty()) {
      const json error = data.value("error", json());
      message = error.is_string() ? error.get<std::string>() : stringAt(error, "message");
    }
    fail(out, message.empty() ? data.dump() : message);
  }

  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  bool strict_ = true;
  int tool_starts_ = 0;
  int current_tool_ = -1;
};

}  // namespace

std::unique_ptr<StreamTransformer> makeCohereChatStream(const ClientRequest& request,
                                                        const Target& target) {
  return std::make_unique<CohereChatStream>(request, target);
}

}  // namespace portico::providers
