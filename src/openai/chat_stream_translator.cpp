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

void ChatStreamTranslator::emit(std::string& out, json delta, json finish_reason, json usage) {
  json piece = chunk();
  piece["choices"].push_back({{"index", 0},
                              {"delta", std::move(delta)},
                              {"logprobs", nullptr},
                              {"finish_reason", std::move(finish_reason)}});
  if (!usage.is_null()) {
    piece["usage"] = std::move(usage);
  }
  out += sseData(piece);
}

void ChatStreamTranslator::emitFinish(std::string& out, json finish_reason) {
  finish_seen_ = true;
  emit(out, json::object(), std::move(finish_reason), include_usage_ ? json() : usage_);
}

void ChatStreamTranslator::end(std::string& out) {
  ensureStarted(out);
  if (include_usage_ && !usage_.is_null()) {
    json piece = chunk();
    piece["usage"] = usage_;
    out += sseData(piece);
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
