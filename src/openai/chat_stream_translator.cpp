#include "portico/json_text.hpp"
#include "portico/openai_stream.hpp"
#include "portico/openai_wire.hpp"

namespace portico::openai {

using nlohmann::json;

ChatStreamTranslator::ChatStreamTranslator(std::string provider,
                                           const ClientRequest& request,
                                           std::string fallback_id)
    : provider_(std::move(provider)),
      id_(std::move(fallback_id)),
      model_(stringField(request.body, "model")),
      created_(unixSeconds(request.now)),
      include_usage_(wantsIncludeUsage(request.body)) {}

void ChatStreamTranslator::feed(std::string_view bytes, std::string& out) {
  if (!done_) {
    onBytes(bytes, out);
  }
}

void ChatStreamTranslator::finish(bool complete, std::string& out) {
  if (!done_) {
    onEnd(complete, out);
  }
}

std::optional<Usage> ChatStreamTranslator::usage() const { return usageFromOpenAi(usage_); }

void ChatStreamTranslator::onEnd(bool complete, std::string& out) {
  if (!complete) {
    fail(out, "the upstream stream was interrupted");
  } else if (finish_seen_) {
    end(out);  // finished without the provider's closing event: the answer is whole
  } else {
    fail(out, incompleteMessage());
  }
}

json ChatStreamTranslator::chunk() const { return chatChunk(id_, model_, created_, provider_); }

void ChatStreamTranslator::ensureStarted(std::string& out) {
  if (!started_) {
    started_ = true;
    emit(out, {{"role", "assistant"}, {"content", ""}});
  }
}

namespace {

void appendJson(std::string& out, const json& value) {
  out += value.dump(-1, ' ', false, json::error_handler_t::replace);
}

constexpr std::string_view kChunkOpen = "data: {\"choices\":[";
constexpr std::string_view kChoiceEnd = ",\"index\":0,\"logprobs\":null}]";

}  // namespace

// Chunks are written as text, not built as trees: most of a translated stream's CPU went to
// building, dumping and freeing them. The text is what dumping the tree gave, since nlohmann
// writes an object's keys sorted (choices, created, id, model, object, provider, usage; in a
// choice delta, finish_reason, index, logprobs); the skeleton after "choices" is dumped once
// per id and model.
const std::string& ChatStreamTranslator::chunkTail() {
  if (chunk_tail_.empty()) {
    constexpr std::string_view kEmptyChoices = "{\"choices\":[]";
    const std::string whole = chunk().dump(-1, ' ', false, json::error_handler_t::replace);
    chunk_tail_ = whole.substr(kEmptyChoices.size(), whole.size() - kEmptyChoices.size() - 1);
  }
  return chunk_tail_;
}

void ChatStreamTranslator::emit(std::string& out, json delta, json finish_reason, json usage) {
  out += kChunkOpen;
  out += "{\"delta\":";
  appendJson(out, delta);
  out += ",\"finish_reason\":";
  appendJson(out, finish_reason);
  out += kChoiceEnd;
  out += chunkTail();
  if (!usage.is_null()) {
    out += ",\"usage\":";
    appendJson(out, usage);
  }
  out += "}\n\n";
}

void ChatStreamTranslator::emitContent(std::string& out, std::string_view text) {
  out += kChunkOpen;
  out += "{\"delta\":{\"content\":";
  json_text::appendString(out, text);
  out += "},\"finish_reason\":null";
  out += kChoiceEnd;
  out += chunkTail();
  out += "}\n\n";
}

void ChatStreamTranslator::emitFinish(std::string& out, json finish_reason) {
  finish_seen_ = true;
  emit(out, json::object(), std::move(finish_reason), include_usage_ ? json() : usage_);
}

void ChatStreamTranslator::end(std::string& out) {
  ensureStarted(out);
  if (include_usage_ && !usage_.is_null()) {
    out += kChunkOpen;
    out += ']';
    out += chunkTail();
    out += ",\"usage\":";
    appendJson(out, usage_);
    out += "}\n\n";
  }
  out += sseDone();
  done_ = true;
}

void ChatStreamTranslator::fail(std::string& out, std::string_view message, json type, json code) {
  out += sseError(provider_, message, std::move(type), std::move(code));
  done_ = true;
}

int ChatStreamTranslator::toolIndex(const std::string& key, bool* created) {
  auto [it, inserted] = tool_indexes_.try_emplace(key, static_cast<int>(tool_indexes_.size()));
  if (created != nullptr) {
    *created = inserted;
  }
  return it->second;
}

int ChatStreamTranslator::knownToolIndex(const std::string& key) const {
  auto it = tool_indexes_.find(key);
  return it == tool_indexes_.end() ? -1 : it->second;
}

}  // namespace portico::openai
