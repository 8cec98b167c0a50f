// Gemini streamGenerateContent?alt=sse -> OpenAI chat.completion.chunk SSE.
#include <map>
#include <string>
#include <vector>

#include "google/gemini_json.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_stream.hpp"
#include "portico/openai_wire.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers::gemini {

using nlohmann::json;
using namespace detail;

namespace {

// Each event is a whole GenerateContentResponse; candidates (n > 1) are choices of their own,
// each opened with its role and closed by its finish chunk.
class GeminiStream final : public openai::ChatStreamTranslator {
 public:
  GeminiStream(std::string provider, const ClientRequest& request, std::string id)
      : ChatStreamTranslator(std::move(provider), request, std::move(id)) {}

 protected:
  void onBytes(std::string_view bytes, std::string& out) override {
    events_.clear();
    if (!parser_.feed(bytes, events_)) {
      fail(out, "stream event exceeds the size limit");
      return;
    }
    handleEvents(out);
  }

  void onEnd(bool complete, std::string& out) override {
    events_.clear();
    parser_.finish(events_);
    handleEvents(out);
    if (done()) {
      return;
    }
    if (!complete) {
      fail(out, "the upstream stream ended unexpectedly");
      return;
    }
    if (candidates_.empty()) {
      fail(out, "the upstream stream ended without an answer");
      return;
    }
    for (auto& [index, state] : candidates_) {
      if (!state.finished) {
        // Ended cleanly without a finishReason: close the choice rather than leave it open.
        finishCandidate(index, state, state.tool_calls > 0 ? "tool_calls" : "stop", nullptr, out);
      }
    }
    if (includeUsage() && usageJson().is_null()) {
      // Gemini reported no usage: the client that asked for the usage chunk gets zeros.
      json piece = chunk();
      piece["usage"] = openAiUsage(json::object());
      out += openai::sseData(piece);
    }
    end(out);
  }

 private:
  struct CandidateState {
    bool role_sent = false;
    bool finished = false;
    int tool_calls = 0;
  };

  // A chunk for the choice `index` (the base's emit() knows only choice 0).
  void emitChoice(int index, json delta, json finish_reason, json usage, std::string& out) {
    json piece = chunk();
    piece["choices"].push_back({{"index", index},
                                {"delta", std::move(delta)},
                                {"logprobs", nullptr},
                                {"finish_reason", std::move(finish_reason)}});
    if (!usage.is_null()) {
      piece["usage"] = std::move(usage);
    }
    out += openai::sseData(piece);
  }

  // The choice's role goes out in its first delta, not in a chunk of its own, so the base's
  // opening role chunk is only marked as sent.
  void markRoleSent(CandidateState& state) {
    state.role_sent = true;
    markStarted();
  }

  void ensureRole(int index, CandidateState& state, std::string& out) {
    if (!state.role_sent) {
      markRoleSent(state);
      emitChoice(index, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr, out);
    }
  }

  // The finish chunk carries the event's usage, unless the client asked for the usage chunk.
  void finishCandidate(int index,
                       CandidateState& state,
                       const std::string& reason,
                       const json* usage_metadata,
                       std::string& out) {
    ensureRole(index, state, out);
    state.finished = true;
    json usage;
    if (usage_metadata != nullptr && !includeUsage()) {
      usage = openAiUsage(*usage_metadata);
    }
    emitChoice(index, json::object(), reason, std::move(usage), out);
  }

  void handleEvents(std::string& out) {
    for (const auto& event : events_) {
      if (done()) {
        return;
      }
      handleEvent(event.data, out);
    }
  }

  void handleEvent(std::string_view data, std::string& out) {
    while (!data.empty() && (data.front() == ' ' || data.front() == '\r' || data.front() == '\n')) {
      data.remove_prefix(1);
    }
    if (data.empty() || data == "[DONE]") {
      return;
    }
    json event = parseJson(data);
    if (event.is_array() && event.size() == 1) {
      event = event[0];
    }
    if (!event.is_object()) {
      fail(out, "invalid stream event: " + std::string(data.substr(0, kMaxQuotedBytes)));
      return;
    }
    try {
      handleObject(event, out);
    } catch (const std::exception& e) {
      fail(out, std::string("invalid stream event: ") + e.what());
    }
  }

  void handleError(const json& error, std::string& out) {
    std::string message = error.is_object() ? stringMember(error, "message") : "";
    if (message.empty()) {
      message = error.dump();
    }
    const json* status = member(error, "status");
    const json* code = member(error, "code");
    fail(out, message, status != nullptr ? *status : json("upstream_stream_error"),
         code != nullptr ? *code : json(nullptr));
  }

  void handleObject(const json& event, std::string& out) {
    if (const json* error = member(event, "error")) {
      handleError(*error, out);
      return;
    }
    if (!model_seen_) {
      std::string version = stringMember(event, "modelVersion");
      if (!version.empty()) {
        setModel(std::move(version));
        model_seen_ = true;
      }
    }
    const json* metadata = member(event, "usageMetadata");
    if (metadata != nullptr) {
      setUsage(openAiUsage(*metadata));
    }
    const json* candidates = member(event, "candidates");
    if (candidates == nullptr || !candidates->is_array() || candidates->empty()) {
      if (!blockReason(event).empty()) {
        auto& state = candidates_[0];
        if (!state.finished) {
          finishCandidate(0, state, "content_filter", metadata, out);
        }
      }
      return;
    }
    int position = 0;
    for (const auto& candidate : *candidates) {
      const json* index = member(candidate, "index");
      handleCandidate(candidate,
                      index != nullptr && index->is_number_integer() ? index->get<int>() : position,
                      metadata, out);
      ++position;
    }
  }

  // The delta for a candidate's parts: the first one opens the choice with its role.
  json deltaOf(CandidateState& state, CandidateParts& parts) {
    json delta = json::object();
    if (!state.role_sent) {
      markRoleSent(state);
      delta["role"] = "assistant";
      if (parts.has_text) {
        delta["content"] = parts.text;
      } else if (parts.tool_calls.empty()) {
        delta["content"] = "";
      } else {
        delta["content"] = nullptr;  // as OpenAI sends it before tool calls
      }
    } else if (parts.has_text) {
      delta["content"] = parts.text;
    }
    if (!parts.tool_calls.empty()) {
      for (auto& call : parts.tool_calls) {
        call["index"] = state.tool_calls++;
      }
      delta["tool_calls"] = std::move(parts.tool_calls);
    }
    return delta;
  }

  void handleCandidate(const json& candidate, int index, const json* metadata, std::string& out) {
    auto& state = candidates_[index];
    if (state.finished) {
      return;
    }
    CandidateParts parts = readParts(candidate);
    json delta = deltaOf(state, parts);
    if (delta.contains("role") || (parts.has_text && !parts.text.empty()) ||
        delta.contains("tool_calls")) {
      emitChoice(index, std::move(delta), nullptr, nullptr, out);
    }
    std::string reason = stringMember(candidate, "finishReason");
    if (!reason.empty() && reason != "FINISH_REASON_UNSPECIFIED") {
      finishCandidate(index, state, finishReason(reason, state.tool_calls > 0), metadata, out);
    }
  }

  bool model_seen_ = false;
  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  std::map<int, CandidateState> candidates_;
};

}  // namespace

std::unique_ptr<StreamTransformer> makeStreamTransformer(std::string provider,
                                                         const ClientRequest& request,
                                                         std::string id) {
  return std::make_unique<GeminiStream>(std::move(provider), request, std::move(id));
}

}  // namespace portico::providers::gemini
