#pragma once

#include <string>
#include <string_view>

namespace portico {

// What an answer says of itself, for traces (gen_ai.response.*): read from a whole JSON answer
// or from the events of a stream, in the format the client is answered in (an OpenAI chat
// completion or chunk, an Anthropic message or its events, a Responses API object or event).
struct AnswerFacts {
  std::string id;
  std::string model;
  std::string finish_reasons;  // comma-separated, in the order they came

  // Takes what `document` (one JSON value) tells: the first id and model seen, every finish
  // reason. Anything not JSON, or of another shape, adds nothing.
  void takeFromJson(std::string_view document);
  // The same for each `data:` line of a run of SSE events.
  void takeFromEvents(std::string_view events);

 private:
  void addFinishReason(std::string_view reason);
};

}  // namespace portico
