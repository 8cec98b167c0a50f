// The common Messages answer (text blocks only) as an OpenAI chat.completion, written as text.
// Parsing it into a tree, building the answer's tree and dumping it was most of what a
// translated request cost beyond the passthrough; the text is what the tree path writes.
#include <cstdint>
#include <string>
#include <vector>

#include "anthropic/anthropic_adapter.hpp"
#include "portico/fast_json.hpp"
#include "portico/json_text.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

// What the answer says, read from simdjson's elements; a repeated key keeps its last value, as
// in the tree.
struct TextAnswer {
  std::string_view id;
  std::string_view model;
  std::vector<std::string_view> texts;
  std::string_view stop_reason;
  bool has_stop_reason = false;
  std::int64_t input = 0;
  std::int64_t output = 0;
  std::int64_t cache_read = 0;
  std::int64_t cache_creation = 0;
};

Usage counts(const TextAnswer& answer) {
  return anthropicCounts(answer.input, answer.output, answer.cache_read, answer.cache_creation);
}

// A block {"type":"text","text":<string>} and nothing else; anything else is the tree's.
bool readTextBlock(element block, std::vector<std::string_view>& texts) {
  simdjson::dom::object fields;
  if (block.get(fields) != SUCCESS) {
    return true;  // the tree skips what is not an object
  }
  std::string_view type;
  std::string_view text;
  bool has_text = false;
  std::size_t count = 0;
  for (auto field : fields) {
    ++count;
    if (field.key == "type" && field.value.get(type) == SUCCESS) {
      continue;
    }
    if (field.key == "text" && field.value.get(text) == SUCCESS) {
      has_text = true;
      continue;
    }
    return false;
  }
  if (count != 2 || type != "text" || !has_text) {
    return false;
  }
  texts.push_back(text);
  return true;
}

// The four counts the tree path reads: integers, anything else counts 0.
bool readUsage(element usage, TextAnswer& answer) {
  simdjson::dom::object fields;
  if (usage.get(fields) != SUCCESS) {
    return true;
  }
  for (auto field : fields) {
    std::int64_t* slot = field.key == "input_tokens"                  ? &answer.input
                         : field.key == "output_tokens"               ? &answer.output
                         : field.key == "cache_read_input_tokens"     ? &answer.cache_read
                         : field.key == "cache_creation_input_tokens" ? &answer.cache_creation
                                                                      : nullptr;
    if (slot == nullptr) {
      continue;
    }
    if (field.value.is_uint64() && !field.value.is_int64()) {
      return false;  // past int64: the tree's conversion decides
    }
    std::int64_t value = 0;
    *slot = field.value.get(value) == SUCCESS ? value : 0;
  }
  return true;
}

bool readAnswer(std::string_view body, TextAnswer& answer) {
  simdjson::dom::object root;
  if (body.size() > fast_json::kTreeMaxBytes || fast_json::parse(body).get(root) != SUCCESS) {
    return false;
  }
  bool has_content = false;
  bool has_usage = false;
  element content;
  element usage;
  for (auto field : root) {
    const std::string_view key = field.key;
    if (key == "id" || key == "model" || key == "type") {
      std::string_view text;
      if (field.value.get(text) != SUCCESS) {
        return false;
      }
      if (key == "id") {
        answer.id = text;
      } else if (key == "model") {
        answer.model = text;
      } else if (text == "error") {
        return false;  // an error inside a 2xx
      }
    } else if (key == "content") {
      content = field.value;
      has_content = true;
    } else if (key == "stop_reason") {
      answer.has_stop_reason = field.value.get(answer.stop_reason) == SUCCESS;
    } else if (key == "usage") {
      usage = field.value;
      has_usage = true;
    }
  }
  simdjson::dom::array blocks;
  if (!has_content || content.get(blocks) != SUCCESS) {
    return false;
  }
  for (auto block : blocks) {
    if (!readTextBlock(block, answer.texts)) {
      return false;
    }
  }
  return !has_usage || readUsage(usage, answer);
}

void appendCount(std::string& out, std::string_view key, std::int64_t value) {
  out += '"';
  out += key;
  out += "\":";
  out += std::to_string(value);
}

// The keys in nlohmann's order (sorted), as anthropicChatResponse's tree dumps them.
std::string answerText(const TextAnswer& answer,
                       std::string_view model,
                       long long created,
                       std::string_view provider,
                       bool strict) {
  using json_text::appendString;
  std::string out;
  out.reserve(512);
  out += "{\"choices\":[{\"finish_reason\":";
  if (answer.has_stop_reason) {
    appendString(out,
                 strict ? anthropicOpenAiFinishReason(answer.stop_reason) : answer.stop_reason);
  } else {
    out += "null";
  }
  out += ",\"index\":0,\"logprobs\":null,\"message\":{\"content\":";
  if (answer.texts.size() == 1) {
    appendString(out, answer.texts.front());
  } else {
    std::string text;
    for (std::string_view part : answer.texts) {
      text += part;
    }
    appendString(out, text);
  }
  if (!strict && !answer.texts.empty()) {
    out += ",\"content_blocks\":[";
    for (std::size_t i = 0; i < answer.texts.size(); ++i) {
      out += i == 0 ? "{\"text\":" : ",{\"text\":";
      appendString(out, answer.texts[i]);
      out += ",\"type\":\"text\"}";
    }
    out += ']';
  }
  out += ",\"role\":\"assistant\"}}],\"created\":";
  out += std::to_string(created);
  out += ",\"id\":";
  appendString(out, answer.id);
  out += ",\"model\":";
  appendString(out, model);
  out += ",\"object\":\"chat.completion\"";
  if (!provider.empty()) {
    out += ",\"provider\":";
    appendString(out, provider);
  }
  out += ",\"usage\":{";
  const std::int64_t prompt = *counts(answer).prompt_tokens;
  if (answer.cache_creation != 0) {
    appendCount(out, "cache_creation_input_tokens", answer.cache_creation);
    out += ',';
  }
  if (answer.cache_read != 0) {
    appendCount(out, "cache_read_input_tokens", answer.cache_read);
    out += ',';
  }
  appendCount(out, "completion_tokens", answer.output);
  out += ',';
  appendCount(out, "prompt_tokens", prompt);
  out += ",\"prompt_tokens_details\":{";
  appendCount(out, "cached_tokens", answer.cache_read);
  out += "},";
  appendCount(out, "total_tokens", prompt + answer.output);
  out += "}}";
  return out;
}

}  // namespace

std::optional<MappedResponse> anthropicTextChatResponse(const ClientRequest& request,
                                                        const Target& target,
                                                        const UpstreamReply& reply,
                                                        std::string_view provider) {
  TextAnswer answer;
  if (reply.status < 200 || reply.status >= 300 || !readAnswer(reply.body, answer)) {
    return std::nullopt;
  }
  std::string request_model;
  std::string_view model = answer.model;
  if (model.empty()) {
    request_model = openai::stringField(request.body, "model");
    model = request_model;
  }
  return MappedResponse{reply.status, "application/json",
                        answerText(answer, model, openai::unixSeconds(request.now), provider,
                                   target.strict_open_ai_compliance),
                        counts(answer)};
}

}  // namespace portico::providers
