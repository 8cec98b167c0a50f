#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "apis/chat_stream_bridge.hpp"
#include "apis/responses_api.hpp"
#include "apis/responses_detail.hpp"
#include "portico/openai_wire.hpp"

namespace portico::apis::responses {

using nlohmann::json;

namespace {

// One content part of the message item: output_text or refusal.
struct Part {
  bool refusal = false;
  std::string text;
};

struct MessageState {
  std::string id;
  std::size_t index = 0;
  std::vector<Part> parts;
  bool part_open = false;
};

struct ReasoningState {
  std::string id;
  std::size_t index = 0;
  std::string text;
};

// A chat tool call. It becomes an output item ("announced") once its name is known, since the
// item's added event carries the name and clients (the AI SDK) take it from there.
struct ToolState {
  json chat_index;  // the chat delta's index (or id) that names this call
  std::string id;
  std::optional<std::size_t> index;  // output index once announced
  std::string call_id;
  std::string name;
  std::string arguments;
  bool closed = false;
};

json textPart(const Part& part) {
  if (part.refusal) {
    return {{"type", "refusal"}, {"refusal", part.text}};
  }
  return {{"type", "output_text"}, {"text", part.text}, {"annotations", json::array()}};
}

json messageJson(const MessageState& message, std::string_view status) {
  json content = json::array();
  for (const Part& part : message.parts) {
    content.push_back(textPart(part));
  }
  return {{"type", "message"},
          {"id", message.id},
          {"status", status},
          {"role", "assistant"},
          {"content", std::move(content)}};
}

json reasoningJson(const ReasoningState& reasoning) {
  json summary = json::array();
  if (!reasoning.text.empty()) {
    summary.push_back({{"type", "summary_text"}, {"text", reasoning.text}});
  }
  return {{"type", "reasoning"}, {"id", reasoning.id}, {"summary", std::move(summary)}};
}

json toolJson(const ToolState& tool, std::string_view status) {
  return {{"type", "function_call"},     {"id", tool.id},
          {"call_id", tool.call_id},     {"name", tool.name},
          {"arguments", tool.arguments}, {"status", status}};
}

// The error event's code: the chat error's code, else its type.
std::string errorCode(const json& error) {
  auto code = error.find("code");
  if (code != error.end() && code->is_string() && !code->get<std::string>().empty()) {
    return code->get<std::string>();
  }
  if (code != error.end() && code->is_number_integer()) {
    return std::to_string(code->get<long long>());
  }
  return detail::stringOr(error, "type", "server_error");
}

// Chat chunks as Responses events. Items open as their first delta arrives and close when an
// item of another kind starts (tool calls stay open together, since chat may interleave their
// argument pieces) or at the end.
class ResponsesStream final : public ChatStreamBridge {
 public:
  // The answer is kept for response.completed: a stream past this fails rather than grow.
  static constexpr std::size_t kMaxChatBytes = 32u << 20;
  static constexpr std::size_t kMaxToolCalls = 128;

  ResponsesStream(const json& request, std::unique_ptr<StreamTransformer> inner)
      : ChatStreamBridge(std::move(inner), kMaxChatBytes),
        model_(detail::stringOr(request, "model")),
        created_at_(openai::unixSeconds(std::chrono::system_clock::now())),
        // Only the echoed fields are kept, not the client's whole input.
        skeleton_(detail::responseObject(openai::newId("resp_"), 0, "", "in_progress", request)) {}

 protected:
  void onChunk(const json& chunk, std::string& out) override {
    start(chunk, out);
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) {
      return;
    }
    for (const json& choice : *choices) {
      // Responses has one answer: the first choice's.
      if (choice.is_object() && choice.value("index", json(0)) == 0) {
        onChoice(choice, out);
      }
    }
  }

  // The `error` event alone makes every SDK raise (the openai SDKs on the event name or the
  // nested `error`, the AI SDK on the type); once response.created went out, response.failed
  // also ends that response, as OpenAI does. Both carry a string code (the AI SDK requires one).
  void onError(const json& error, std::string& out) override {
    const auto inner = error.find("error");
    const json& details = inner != error.end() ? *inner : error;
    if (details.is_string()) {
      fail(out, "server_error", details.get<std::string>(), "server_error");
      return;
    }
    const std::string message = detail::stringOr(details, "message", "the upstream stream failed");
    const std::string code = details.is_object() ? errorCode(details) : "server_error";
    fail(out, code, message, detail::stringOr(details, "type", "server_error"));
  }

  void onEnd(bool saw_done, bool complete, std::string& out) override {
    if (!complete) {
      fail(out, "server_error", "the upstream stream was interrupted", "server_error");
      return;
    }
    if (finish_reason_.is_null() && !saw_done) {
      fail(out, "server_error", "the upstream stream ended before the response was complete",
           "server_error");
      return;
    }
    start(json::object(), out);
    closeAll(out);
    const json incomplete = detail::incompleteDetails(finish_reason_);
    json response = snapshot(incomplete.is_null() ? "completed" : "incomplete");
    response["incomplete_details"] = incomplete;
    response["usage"] = detail::usageObject(usage());
    emit(out, incomplete.is_null() ? "response.completed" : "response.incomplete",
         {{"response", std::move(response)}});
  }

 private:
  void emit(std::string& out, std::string_view type, json data) {
    data["type"] = type;
    data["sequence_number"] = sequence_++;
    writeEvent(out, type, data);
  }

  json snapshot(std::string_view status) const {
    json response = skeleton_;
    response["status"] = status;
    response["model"] = model_;
    response["created_at"] = created_at_;
    response["output"] = output_;
    return response;
  }

  // response.created and response.in_progress, once, with the first chunk's model and time.
  void start(const json& chunk, std::string& out) {
    if (started_) {
      return;
    }
    started_ = true;
    if (std::string model = detail::stringOr(chunk, "model"); !model.empty()) {
      model_ = std::move(model);
    }
    if (auto created = chunk.find("created");
        created != chunk.end() && created->is_number_integer()) {
      created_at_ = created->get<long long>();
    }
    emit(out, "response.created", {{"response", snapshot("in_progress")}});
    emit(out, "response.in_progress", {{"response", snapshot("in_progress")}});
  }

  void onChoice(const json& choice, std::string& out) {
    const auto delta = choice.find("delta");
    if (delta != choice.end() && delta->is_object()) {
      std::string reasoning = detail::stringOr(*delta, "reasoning_content");
      if (reasoning.empty()) {
        reasoning = detail::stringOr(*delta, "reasoning");
      }
      if (!reasoning.empty()) {
        onReasoning(reasoning, out);
      }
      if (std::string text = detail::stringOr(*delta, "content"); !text.empty()) {
        onText(false, text, out);
      }
      if (std::string refusal = detail::stringOr(*delta, "refusal"); !refusal.empty()) {
        onText(true, refusal, out);
      }
      if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
        for (const json& call : *calls) {
          if (call.is_object()) {
            onToolDelta(call, out);
          }
          if (stopped()) {
            return;
          }
        }
      }
    }
    if (auto reason = choice.find("finish_reason"); reason != choice.end() && reason->is_string()) {
      finish_reason_ = *reason;
    }
  }

  // --- message text and refusals

  void onText(bool refusal, const std::string& delta, std::string& out) {
    closeReasoning(out);
    closeTools(out);
    if (!message_) {
      message_ = MessageState{openai::newId("msg_"), output_.size(), {}, false};
      output_.push_back(messageJson(*message_, "in_progress"));
      emit(out, "response.output_item.added",
           {{"output_index", message_->index}, {"item", output_.back()}});
    }
    MessageState& message = *message_;
    if (!message.part_open || message.parts.back().refusal != refusal) {
      closePart(out);
      message.parts.push_back(Part{refusal, ""});
      message.part_open = true;
      emit(out, "response.content_part.added", partEvent(textPart(message.parts.back())));
    }
    message.parts.back().text += delta;
    json event = partEvent(nullptr);
    event.erase("part");
    event["delta"] = delta;
    if (!refusal) {
      event["logprobs"] = json::array();
    }
    emit(out, refusal ? "response.refusal.delta" : "response.output_text.delta", std::move(event));
  }

  // {item_id, output_index, content_index, part} for the message's last part.
  json partEvent(json part) const {
    return {{"item_id", message_->id},
            {"output_index", message_->index},
            {"content_index", message_->parts.size() - 1},
            {"part", std::move(part)}};
  }

  void closePart(std::string& out) {
    if (!message_ || !message_->part_open) {
      return;
    }
    message_->part_open = false;
    const Part& part = message_->parts.back();
    json done = partEvent(nullptr);
    done.erase("part");
    if (part.refusal) {
      done["refusal"] = part.text;
      emit(out, "response.refusal.done", std::move(done));
    } else {
      done["text"] = part.text;
      done["logprobs"] = json::array();
      emit(out, "response.output_text.done", std::move(done));
    }
    emit(out, "response.content_part.done", partEvent(textPart(part)));
  }

  void closeMessage(std::string& out) {
    if (!message_) {
      return;
    }
    closePart(out);
    output_[message_->index] = messageJson(*message_, "completed");
    emit(out, "response.output_item.done",
         {{"output_index", message_->index}, {"item", output_[message_->index]}});
    message_.reset();
  }

  // --- reasoning (a summary, the closest Responses has to a chat provider's reasoning text)

  json summaryEvent() const {
    return {{"item_id", reasoning_->id}, {"output_index", reasoning_->index}, {"summary_index", 0}};
  }

  void onReasoning(const std::string& delta, std::string& out) {
    closeMessage(out);
    closeTools(out);
    if (!reasoning_) {
      reasoning_ = ReasoningState{openai::newId("rs_"), output_.size(), ""};
      output_.push_back(reasoningJson(*reasoning_));
      emit(out, "response.output_item.added",
           {{"output_index", reasoning_->index}, {"item", output_.back()}});
      json added = summaryEvent();
      added["part"] = {{"type", "summary_text"}, {"text", ""}};
      emit(out, "response.reasoning_summary_part.added", std::move(added));
    }
    reasoning_->text += delta;
    json event = summaryEvent();
    event["delta"] = delta;
    emit(out, "response.reasoning_summary_text.delta", std::move(event));
  }

  void closeReasoning(std::string& out) {
    if (!reasoning_) {
      return;
    }
    json text_done = summaryEvent();
    text_done["text"] = reasoning_->text;
    emit(out, "response.reasoning_summary_text.done", std::move(text_done));
    json part_done = summaryEvent();
    part_done["part"] = {{"type", "summary_text"}, {"text", reasoning_->text}};
    emit(out, "response.reasoning_summary_part.done", std::move(part_done));
    json item = reasoningJson(*reasoning_);
    output_[reasoning_->index] = item;
    emit(out, "response.output_item.done",
         {{"output_index", reasoning_->index}, {"item", std::move(item)}});
    reasoning_.reset();
  }

  // --- tool calls

  // The call a chat tool-call delta continues: by its index, else by its id, else (neither
  // given) the latest call; nullptr for a new call. A known index with another call's id is a
  // new call: some providers number every call 0.
  ToolState* findTool(const json& call) {
    const auto index = call.find("index");
    const std::string id = detail::stringOr(call, "id");
    const bool indexed = index != call.end() && index->is_number_integer();
    for (auto it = tools_.rbegin(); it != tools_.rend(); ++it) {
      if (indexed) {
        if (it->chat_index == *index) {
          return id.empty() || it->call_id.empty() || it->call_id == id ? &*it : nullptr;
        }
      } else if (!id.empty()) {
        if (it->call_id == id) {
          return &*it;
        }
      } else {
        return &*it;
      }
    }
    return nullptr;
  }

  void onToolDelta(const json& call, std::string& out) {
    closeMessage(out);
    closeReasoning(out);
    ToolState* tool = findTool(call);
    if (!tool) {
      if (tools_.size() >= kMaxToolCalls) {  // each delta searches them: keep that bounded
        stopWith("the upstream sent more tool calls than Portico translates", out);
        return;
      }
      tools_.push_back(ToolState{call.value("index", json()), openai::newId("fc_")});
      tool = &tools_.back();
    }
    if (tool->closed) {
      return;  // a piece for a call already closed: its item is final
    }
    const json function = call.value("function", json::object());
    std::string piece;
    if (function.is_object()) {
      piece = detail::stringOr(function, "arguments");
      if (!tool->index) {
        tool->name = detail::stringOr(function, "name", tool->name);
      }
    }
    if (!tool->index) {
      tool->call_id = detail::stringOr(call, "id", tool->call_id);
    }
    tool->arguments += piece;
    if (!tool->index && !tool->name.empty()) {
      announce(*tool, out);
    } else if (tool->index && !piece.empty()) {
      emit(out, "response.function_call_arguments.delta",
           {{"item_id", tool->id}, {"output_index", *tool->index}, {"delta", piece}});
    }
  }

  // The item's added event, then whatever arguments came before the name did.
  void announce(ToolState& tool, std::string& out) {
    if (tool.call_id.empty()) {
      tool.call_id = openai::newId("call_");
    }
    tool.index = output_.size();
    ToolState opening = tool;
    opening.arguments.clear();
    output_.push_back(toolJson(opening, "in_progress"));
    emit(out, "response.output_item.added",
         {{"output_index", *tool.index}, {"item", output_.back()}});
    if (!tool.arguments.empty()) {
      emit(out, "response.function_call_arguments.delta",
           {{"item_id", tool.id}, {"output_index", *tool.index}, {"delta", tool.arguments}});
    }
  }

  void closeTools(std::string& out) {
    // Calls close all together, so those before first_open_tool_ are closed already.
    for (std::size_t i = first_open_tool_; i < tools_.size(); ++i) {
      ToolState& tool = tools_[i];
      if (tool.closed) {
        continue;
      }
      if (!tool.index) {
        announce(tool, out);  // a call whose name never came: still the client's to see
      }
      tool.closed = true;
      emit(out, "response.function_call_arguments.done",
           {{"item_id", tool.id},
            {"output_index", *tool.index},
            {"name", tool.name},
            {"arguments", tool.arguments}});
      output_[*tool.index] = toolJson(tool, "completed");
      emit(out, "response.output_item.done",
           {{"output_index", *tool.index}, {"item", output_[*tool.index]}});
    }
    first_open_tool_ = tools_.size();
  }

  void closeAll(std::string& out) {
    closeReasoning(out);
    closeMessage(out);
    closeTools(out);
  }

  // --- failure

  // The `error` event, then response.failed (with the output so far) when the response began.
  void fail(std::string& out,
            const std::string& code,
            const std::string& message,
            const std::string& type) {
    emit(out, "error",
         {{"code", code},
          {"message", message},
          {"param", nullptr},
          {"error", {{"type", type}, {"code", code}, {"message", message}, {"param", nullptr}}}});
    if (!started_) {
      return;
    }
    markOpenItemsIncomplete();
    json response = snapshot("failed");
    response["error"] = {{"code", code}, {"message", message}};
    if (auto counted = usage()) {
      response["usage"] = detail::usageObject(counted);
    }
    emit(out, "response.failed", {{"response", std::move(response)}});
  }

  void markOpenItemsIncomplete() {
    if (message_) {
      output_[message_->index] = messageJson(*message_, "incomplete");
    }
    if (reasoning_) {
      output_[reasoning_->index] = reasoningJson(*reasoning_);
    }
    for (const ToolState& tool : tools_) {
      if (tool.index && !tool.closed) {
        output_[*tool.index] = toolJson(tool, "incomplete");
      }
    }
  }

  std::string model_;
  long long created_at_;
  json skeleton_;
  bool started_ = false;
  long long sequence_ = 0;
  json output_ = json::array();  // every item by output index, as it stands
  std::optional<MessageState> message_;
  std::optional<ReasoningState> reasoning_;
  std::vector<ToolState> tools_;
  std::size_t first_open_tool_ = 0;
  json finish_reason_;
};

}  // namespace

std::unique_ptr<StreamTransformer> streamFromChat(const json& request,
                                                  std::unique_ptr<StreamTransformer> inner) {
  return std::make_unique<ResponsesStream>(request, std::move(inner));
}

}  // namespace portico::apis::responses
