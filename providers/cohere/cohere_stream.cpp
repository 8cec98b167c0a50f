#include <utility>

#include "cohere/cohere_adapter.hpp"
#include "portico/openai_wire.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

constexpr std::string_view kId = "cohere";

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

}  // namespace

CohereStreamTransformer::CohereStreamTransformer(
    std::string model, long long created, long long now_ms, bool strict, bool include_usage)
    : id_("cohere-" + std::to_string(now_ms)),
      model_(std::move(model)),
      created_(created),
      strict_(strict),
      include_usage_(include_usage) {}

json CohereStreamTransformer::chunkWith(json delta, json finish_reason) const {
  json chunk = openai::chatChunk(id_, model_, created_, kId);
  chunk["choices"].push_back({{"index", 0},
                              {"delta", std::move(delta)},
                              {"logprobs", nullptr},
                              {"finish_reason", std::move(finish_reason)}});
  return chunk;
}

void CohereStreamTransformer::fail(std::string_view message, std::string& out) {
  out += openai::sseError(kId, message);
  ended_ = true;
}

void CohereStreamTransformer::feed(std::string_view bytes, std::string& out) {
  if (ended_) {
    return;
  }
  events_.clear();
  if (!parser_.feed(bytes, events_)) {
    fail("the stream sent an event larger than the gateway accepts", out);
    return;
  }
  for (const auto& event : events_) {
    if (ended_) {
      break;
    }
    handle(event, out);
  }
}

void CohereStreamTransformer::finish(bool complete, std::string& out) {
  if (!ended_) {
    events_.clear();
    parser_.finish(events_);
    for (const auto& event : events_) {
      if (ended_) {
        break;
      }
      handle(event, out);
    }
  }
  if (!ended_) {
    // Without message-end the answer is cut short: say so rather than end cleanly.
    fail(complete ? "the stream ended before message-end"
                  : "the connection to cohere broke during the stream",
         out);
  }
}

void CohereStreamTransformer::handle(const stream::SseParser::Event& event, std::string& out) {
  json data = parseJson(event.data);
  if (!data.is_object()) {
    if (event.event == "error") {
      fail(event.data.empty() ? "error event" : event.data, out);
    }
    return;  // keep-alives and other non-JSON frames
  }
  std::string type = stringAt(data, "type");
  if (type.empty()) {
    type = event.event;
  }
  try {
    if (type == "message-start") {
      if (std::string id = stringAt(data, "id"); !id.empty()) {
        id_ = std::move(id);
      }
      out += openai::sseData(chunkWith({{"role", "assistant"}, {"content", ""}}));
    } else if (type == "content-delta") {
      const json content = messageDelta(data, "content");
      std::string text = stringAt(content, "text");
      if (!text.empty()) {
        out += openai::sseData(chunkWith({{"content", std::move(text)}}));
      }
    } else if (type == "tool-plan-delta") {
      const json plan = messageDelta(data, "tool_plan");
      if (!strict_ && plan.is_string() && !plan.empty()) {
        out += openai::sseData(chunkWith({{"tool_plan", plan}}));
      }
    } else if (type == "tool-call-start") {
      const json call = singleToolCall(messageDelta(data, "tool_calls"));
      const json function = call.is_object() ? call.value("function", json::object()) : json();
      ++tool_index_;
      json tool_call = {
          {"index", tool_index_},
          {"id", stringAt(call, "id")},
          {"type", "function"},
          {"function",
           {{"name", stringAt(function, "name")}, {"arguments", stringAt(function, "arguments")}}}};
      out += openai::sseData(chunkWith({{"tool_calls", json::array({std::move(tool_call)})}}));
    } else if (type == "tool-call-delta") {
      const json call = singleToolCall(messageDelta(data, "tool_calls"));
      std::string arguments =
          stringAt(call.is_object() ? call.value("function", json::object()) : json(), "arguments");
      if (!arguments.empty()) {
        json tool_call = {{"index", tool_index_ < 0 ? 0 : tool_index_},
                          {"function", {{"arguments", std::move(arguments)}}}};
        out += openai::sseData(chunkWith({{"tool_calls", json::array({std::move(tool_call)})}}));
      }
    } else if (type == "message-end") {
      const json delta = data.value("delta", json::object());
      std::string reason = stringAt(delta, "finish_reason");
      if (reason == "ERROR") {
        std::string message = stringAt(delta, "error");
        fail(message.empty() ? "the generation failed (finish_reason ERROR)" : message, out);
        return;
      }
      json usage =
          delta.is_object() ? cohereUsageToOpenAi(delta.value("usage", json())) : json(nullptr);
      json finish = chunkWith(json::object(), mapCohereFinishReason(reason, strict_));
      if (include_usage_) {
        // OpenAI's shape: usage on its own chunk with no choices, after the finish chunk.
        out += openai::sseData(finish);
        if (!usage.is_null()) {
          json usage_chunk = openai::chatChunk(id_, model_, created_, kId);
          usage_chunk["usage"] = std::move(usage);
          out += openai::sseData(usage_chunk);
        }
      } else {
        if (!usage.is_null()) {
          finish["usage"] = std::move(usage);
        }
        out += openai::sseData(finish);
      }
      out += openai::sseDone();
      ended_ = true;
    } else if (type == "error") {
      std::string message = stringAt(data, "message");
      if (message.empty()) {
        const json error = data.value("error", json());
        message = error.is_string() ? error.get<std::string>() : stringAt(error, "message");
      }
      fail(message.empty() ? data.dump() : message, out);
    }
    // content-start, content-end, tool-call-end, citation-*, debug and unknown events carry
    // nothing an OpenAI client reads.
  } catch (const json::exception&) {
    // A frame of an unexpected shape is skipped, never fatal.
  }
}

}  // namespace portico::providers
