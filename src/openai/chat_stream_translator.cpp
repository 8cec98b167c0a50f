#include <algorithm>

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

void ChatStreamTranslator::emitContent(std::string& out, std::string_view text) {
  if (content_head_.empty()) {
    // emit()'s own text for an empty content, cut around the "" (a quote inside the id or the
    // model is escaped, so the marker can only be the delta's).
    std::string whole;
    emit(whole, {{"content", ""}});
    constexpr std::string_view kMarker = "\"delta\":{\"content\":";
    const std::size_t marker = whole.find(kMarker);
    if (marker == std::string::npos) {
      emit(out, {{"content", text}});
      return;
    }
    const std::size_t at = marker + kMarker.size();
    content_head_ = whole.substr(0, at);
    content_tail_ = whole.substr(at + 2);  // after the empty string's two quotes
  }
  out += content_head_;
  // Printable ASCII without a quote or backslash is its own JSON text; anything else (escapes,
  // UTF-8 to check) goes through nlohmann's serializer, so the bytes match emit()'s.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
  } else {
    out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out += content_tail_;
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
