// Converse answers and AWS errors -> OpenAI shapes.
#include <cstdint>
#include <utility>

#include "bedrock/bedrock_adapter.hpp"
#include "bedrock/bedrock_detail.hpp"
#include "common/request_helpers.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers::bedrock {

using nlohmann::json;

namespace {

using detail::isString;
using detail::kProvider;
using detail::stringField;

// output.message.content of a Converse answer, or null when it has none.
const json* outputContent(const json& converse) {
  if (!converse.is_object()) return nullptr;
  auto output = converse.find("output");
  if (output == converse.end() || !output->is_object()) return nullptr;
  auto message = output->find("message");
  if (message == output->end() || !message->is_object()) return nullptr;
  auto content = message->find("content");
  return content != message->end() && content->is_array() ? &*content : nullptr;
}

// Converse content blocks -> an OpenAI assistant message: text blocks joined by newlines,
// toolUse blocks as tool_calls.
json assistantMessage(const json& content) {
  std::string text;
  bool has_text = false;
  json tool_calls = json::array();
  for (const auto& block : content) {
    if (!block.is_object()) continue;
    if (isString(block, "text")) {
      if (has_text) text += "\n";
      text += block["text"].get<std::string>();
      has_text = true;
    } else if (block.contains("toolUse") && block["toolUse"].is_object()) {
      const json& use = block["toolUse"];
      json input = use.contains("input") ? use["input"] : json::object();
      tool_calls.push_back(
          {{"id", stringField(use, "toolUseId")},
           {"type", "function"},
           {"function", {{"name", stringField(use, "name")}, {"arguments", input.dump()}}}});
    }
  }
  json message = {{"role", "assistant"}, {"content", has_text ? json(text) : json(nullptr)}};
  if (!tool_calls.empty()) {
    message["tool_calls"] = std::move(tool_calls);
  }
  return message;
}

// The error type AWS names in x-amzn-errortype or, in older answers, the body's "__type":
// "ThrottlingException:http://internal.amazon.com/coral/..." or
// "com.amazon.coral.validate#ValidationException" -> the bare name; null when none.
json awsErrorType(const UpstreamReply& reply, const json& parsed) {
  std::string raw(findHeader(reply.headers, "x-amzn-errortype").value_or(""));
  if (raw.empty()) raw = stringField(parsed, "__type");
  if (auto colon = raw.find(':'); colon != std::string::npos) raw.erase(colon);
  if (auto hash = raw.rfind('#'); hash != std::string::npos) raw.erase(0, hash + 1);
  return raw.empty() ? json(nullptr) : json(raw);
}

}  // namespace

std::string finishReason(std::string_view stop_reason) {
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return "length";
  }
  if (stop_reason == "guardrail_intervened" || stop_reason == "content_filtered") {
    return "content_filter";
  }
  return "stop";  // end_turn, stop_sequence and anything new
}

json usage(const json& in) {
  auto count = [&](const char* key) -> std::int64_t {
    auto it = in.find(key);
    return it != in.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
  };
  const std::int64_t cache_read = count("cacheReadInputTokens");
  const std::int64_t prompt = count("inputTokens") + cache_read + count("cacheWriteInputTokens");
  const std::int64_t completion = count("outputTokens");
  std::int64_t total = count("totalTokens");
  if (total == 0) total = prompt + completion;
  return json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", total},
              {"prompt_tokens_details", {{"cached_tokens", cache_read}}}};
}

std::optional<Usage> converseUsage(const json& converse) {
  if (!converse.is_object()) return std::nullopt;
  auto it = converse.find("usage");
  if (it == converse.end() || !it->is_object()) return std::nullopt;
  return usageFromOpenAi(usage(*it));
}

Expected<json> fromConverseResponse(const json& converse,
                                    std::string_view id,
                                    std::string_view model,
                                    long long created,
                                    bool strict) {
  const json* content = outputContent(converse);
  if (content == nullptr) {
    return detail::invalidResponse(converse.dump());
  }
  const std::string stop = stringField(converse, "stopReason");
  json result = openai::chatCompletion(id, model, created, kProvider);
  result["choices"].push_back(
      {{"index", 0},
       {"message", assistantMessage(*content)},
       {"logprobs", nullptr},
       {"finish_reason", strict || stop.empty() ? finishReason(stop) : stop}});
  if (converse.contains("usage") && converse["usage"].is_object()) {
    result["usage"] = usage(converse["usage"]);
  }
  return result;
}

MappedResponse mapError(const UpstreamReply& reply) {
  json parsed = parseJson(reply.body);
  if (!parsed.is_object()) {
    std::string text = detail::clipped(reply.body);
    if (text.empty()) text = "empty response with status " + std::to_string(reply.status);
    return fromError(errors::providerError(reply.status, kProvider, text));
  }
  std::string message = stringField(parsed, "message");
  if (message.empty()) message = stringField(parsed, "Message");
  if (message.empty()) message = detail::clipped(parsed.dump());
  return fromError(
      errors::providerError(reply.status, kProvider, message, awsErrorType(reply, parsed)));
}

}  // namespace portico::providers::bedrock
