// Cohere v2 chat answers -> OpenAI chat.completion; usage and finish reasons.
#include <string>

#include "cohere/cohere_adapter.hpp"
#include "cohere/cohere_mapping.hpp"
#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

using nlohmann::json;

namespace cohere {

long long countOf(const json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) {
    return value.get<long long>();
  }
  if (value.is_number_float()) {
    return static_cast<long long>(value.get<double>());
  }
  return 0;
}

}  // namespace cohere

namespace {

constexpr std::size_t kMaxQuotedBytes = 2048;

// The OpenAI message for Cohere's answer message.
json chatMessage(const json& message, bool strict) {
  std::string text;
  json tool_calls = json::array();
  if (message.is_object()) {
    const json content = message.value("content", json());
    text = content.is_string() ? content.get<std::string>() : cohere::textOf(content);
    auto calls = message.find("tool_calls");
    if (calls != message.end() && calls->is_array()) {
      tool_calls = cohere::toolCallsOf(*calls);
    }
  }
  json out = {{"role", "assistant"}};
  out["content"] = text.empty() && !tool_calls.empty() ? json(nullptr) : json(text);
  if (!tool_calls.empty()) {
    out["tool_calls"] = std::move(tool_calls);
  }
  if (!strict && message.is_object()) {
    for (const char* extra : {"tool_plan", "citations"}) {
      if (auto it = message.find(extra); it != message.end()) {
        out[extra] = *it;
      }
    }
  }
  return out;
}

}  // namespace

MappedResponse cohereInvalidResponse(int status, std::string_view body) {
  return fromError(errors::providerError(
      status >= 200 && status < 300 ? 502 : status, cohere::kId,
      "Invalid response received from cohere: " + std::string(body.substr(0, kMaxQuotedBytes))));
}

// OpenAI usage from Cohere's: the token counts (what the model saw), else the billed units.
json cohereUsageToOpenAi(const json& usage) {
  if (!usage.is_object()) {
    return nullptr;
  }
  const json* counts = nullptr;
  for (const char* key : {"tokens", "billed_units"}) {
    auto it = usage.find(key);
    if (it != usage.end() && it->is_object() &&
        (it->contains("input_tokens") || it->contains("output_tokens"))) {
      counts = &*it;
      break;
    }
  }
  if (counts == nullptr) {
    return nullptr;
  }
  long long prompt = cohere::countOf(counts->value("input_tokens", json(0)));
  long long completion = cohere::countOf(counts->value("output_tokens", json(0)));
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion}};
}

std::optional<Usage> cohereUsage(const json& usage) {
  return usageFromOpenAi(cohereUsageToOpenAi(usage));
}

std::string mapCohereFinishReason(std::string_view reason, bool strict) {
  if (!strict && !reason.empty()) {
    return std::string(reason);
  }
  if (reason == "MAX_TOKENS" || reason == "ERROR_LIMIT") {
    return "length";
  }
  if (reason == "TOOL_CALL") {
    return "tool_calls";
  }
  if (reason == "ERROR_TOXIC") {
    return "content_filter";
  }
  return "stop";  // COMPLETE, STOP_SEQUENCE, USER_CANCEL and anything new
}

MappedResponse cohereChatResponse(const ClientRequest& request,
                                  const Target& target,
                                  const json& answer) {
  const bool strict = target.strict_open_ai_compliance;
  std::string reason = answer.value("finish_reason", "");
  if (reason == "ERROR") {
    return fromError(
        errors::providerError(502, cohere::kId, "the generation failed (finish_reason ERROR)"));
  }
  json out = openai::chatCompletion("", openai::stringField(request.body, "model"),
                                    openai::unixSeconds(request.now), cohere::kId);
  out["id"] = answer.value("id", json(""));
  out["choices"].push_back(
      {{"index", 0},
       {"message", chatMessage(answer.value("message", json::object()), strict)},
       {"logprobs", nullptr},
       {"finish_reason", mapCohereFinishReason(reason, strict)}});
  const json usage = answer.value("usage", json());
  if (json openai_usage = cohereUsageToOpenAi(usage); !openai_usage.is_null()) {
    out["usage"] = std::move(openai_usage);
  }
  return MappedResponse{200, "application/json", out.dump(), cohereUsage(usage)};
}

}  // namespace portico::providers
