#include "apis/chat_stream_bridge.hpp"

#include "portico/json_parse.hpp"

namespace portico::apis {

using nlohmann::json;

ChatStreamBridge::ChatStreamBridge(std::unique_ptr<StreamTransformer> inner,
                                   std::size_t max_chat_bytes)
    : inner_(std::move(inner)), max_chat_bytes_(max_chat_bytes) {}

void ChatStreamBridge::feed(std::string_view bytes, std::string& out) {
  if (stopped_) {
    return;
  }
  if (!inner_) {
    consume(bytes, out);
    return;
  }
  chat_.clear();
  inner_->feed(bytes, chat_);
  consume(chat_, out);
}

void ChatStreamBridge::finish(bool complete, std::string& out) {
  if (stopped_) {
    return;
  }
  if (inner_) {
    chat_.clear();
    inner_->finish(complete, chat_);
    consume(chat_, out);
  }
  if (stopped_) {
    return;
  }
  // A stream cut off mid-event leaves half an event: only a whole stream's last one counts.
  std::vector<stream::SseParser::Event> events;
  if (complete) {
    parser_.finish(events);
  }
  for (const auto& event : events) {
    handle(event, out);
    if (stopped_) {
      return;
    }
  }
  stopped_ = true;
  onEnd(saw_done_, complete && !parser_.broken(), out);
}

std::optional<Usage> ChatStreamBridge::usage() const {
  if (inner_) {
    if (auto usage = inner_->usage()) {
      return usage;
    }
  }
  return chunk_usage_;
}

void ChatStreamBridge::stopWith(std::string_view message, std::string& out) {
  stopped_ = true;
  onError(json{{"error", {{"message", message}, {"type", "upstream_stream_error"}}}}, out);
}

void ChatStreamBridge::writeEvent(std::string& out, std::string_view type, const json& data) {
  out.append("event: ").append(type).append("\ndata: ");
  out += data.dump(-1, ' ', false, json::error_handler_t::replace);
  out += "\n\n";
}

void ChatStreamBridge::consume(std::string_view chat_sse, std::string& out) {
  if (chat_sse.empty()) {
    return;
  }
  chat_bytes_ += chat_sse.size();
  if (max_chat_bytes_ != 0 && chat_bytes_ > max_chat_bytes_) {
    stopWith("the upstream stream is too long to translate", out);
    return;
  }
  std::vector<stream::SseParser::Event> events;
  if (!parser_.feed(chat_sse, events)) {
    stopWith("the upstream stream event is too large", out);
    return;
  }
  for (const auto& event : events) {
    handle(event, out);
    if (stopped_) {
      return;
    }
  }
}

void ChatStreamBridge::handle(const stream::SseParser::Event& event, std::string& out) {
  if (saw_done_) {
    return;  // nothing counts after [DONE]
  }
  if (event.data == "[DONE]") {
    saw_done_ = true;
    return;
  }
  if (event.data.empty()) {
    return;  // a keep-alive or a named event without data
  }
  const json parsed = parseJson(event.data);
  if (!parsed.is_object()) {
    stopWith("the upstream sent an event that is not JSON", out);
    return;
  }
  if (event.event == "error" || (parsed.contains("error") && !parsed.contains("choices"))) {
    stopped_ = true;
    onError(parsed, out);
    return;
  }
  if (auto usage = parsed.find("usage"); usage != parsed.end() && usage->is_object()) {
    if (auto counted = usageFromOpenAi(*usage)) {
      chunk_usage_ = counted;
    }
  }
  onChunk(parsed, out);
}

}  // namespace portico::apis
