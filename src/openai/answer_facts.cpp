#include "portico/answer_facts.hpp"

#include "portico/fast_json.hpp"

namespace portico {
namespace {

using simdjson::dom::element;

std::string_view stringAt(element object, std::string_view key) {
  std::string_view value;
  if (object[key].get(value) == simdjson::SUCCESS) {
    return value;
  }
  return {};
}

// An Anthropic message_start carries the message under "message", a Responses API event the
// response under "response"; chat completions and their chunks are the object itself.
element bodyOf(element root) {
  for (const char* wrapper : {"message", "response"}) {
    element inner;
    if (root[wrapper].get(inner) == simdjson::SUCCESS && inner.is_object()) {
      return inner;
    }
  }
  return root;
}

}  // namespace

void AnswerFacts::addFinishReason(std::string_view reason) {
  if (reason.empty() || finish_reasons.size() > 256) {
    return;
  }
  if (!finish_reasons.empty()) {
    finish_reasons += ',';
  }
  finish_reasons += reason;
}

void AnswerFacts::takeFromJson(std::string_view document) {
  element root;
  if (fast_json::parse(document).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return;
  }
  const element body = bodyOf(root);
  if (id.empty()) {
    id = stringAt(body, "id").substr(0, 128);
  }
  if (model.empty()) {
    model = stringAt(body, "model").substr(0, 128);
  }
  simdjson::dom::array choices;
  if (body["choices"].get(choices) == simdjson::SUCCESS) {
    for (element choice : choices) {
      if (choice.is_object()) {
        addFinishReason(stringAt(choice, "finish_reason"));
      }
    }
  }
  addFinishReason(stringAt(body, "stop_reason"));  // an Anthropic message
  element delta;
  if (root["delta"].get(delta) == simdjson::SUCCESS && delta.is_object()) {
    addFinishReason(stringAt(delta, "stop_reason"));  // Anthropic's message_delta
  }
  if (stringAt(root, "type") == "response.completed" ||
      stringAt(root, "type") == "response.incomplete") {
    addFinishReason(stringAt(body, "status"));
  }
}

void AnswerFacts::takeFromEvents(std::string_view events) {
  while (!events.empty()) {
    const std::size_t end = events.find('\n');
    std::string_view line = events.substr(0, end);
    events = end == std::string_view::npos ? std::string_view{} : events.substr(end + 1);
    if (!line.starts_with("data:")) {
      continue;
    }
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && line.front() == '{') {
      takeFromJson(line);
    }
  }
}

}  // namespace portico
