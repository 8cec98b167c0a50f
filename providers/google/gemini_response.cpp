// Gemini GenerateContentResponse -> OpenAI chat.completion; usage; Google's errors.
#include <optional>
#include <string>

#include "common/request_helpers.hpp"
#include "google/gemini_json.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers::gemini {

using nlohmann::json;
using namespace detail;

namespace {

std::optional<long long> tokenCount(const json& metadata, const char* key) {
  const json* value = member(metadata, key);
  return value != nullptr && value->is_number_integer() ? std::optional(value->get<long long>())
                                                        : std::nullopt;
}

std::string modelOf(const json& response, std::string_view fallback) {
  std::string version = stringMember(response, "modelVersion");
  return version.empty() ? std::string(fallback) : version;
}

MappedResponse invalidResponse(std::string_view provider, std::string_view body) {
  return fromError(errors::providerError(502, provider,
                                         "Invalid response received from " + std::string(provider) +
                                             ": " + std::string(body.substr(0, kMaxQuotedBytes))));
}

// One candidate -> one OpenAI choice (`position` is its index when the candidate gives none).
json choiceOf(const json& candidate, std::size_t position) {
  CandidateParts parts = readParts(candidate);
  const bool calls = !parts.tool_calls.empty();
  json message = {{"role", "assistant"},
                  {"content", parts.has_text ? json(parts.text) : json(nullptr)}};
  if (calls) {
    message["tool_calls"] = std::move(parts.tool_calls);
  }
  const json* index = member(candidate, "index");
  return {{"index", index != nullptr && index->is_number_integer() ? *index : json(position)},
          {"message", std::move(message)},
          {"logprobs", nullptr},
          {"finish_reason", finishReason(stringMember(candidate, "finishReason"), calls)}};
}

// The answer's choices; null when it has neither candidates nor a blocked prompt.
json choicesOf(const json& response) {
  json choices = json::array();
  const json* candidates = member(response, "candidates");
  if (candidates != nullptr && candidates->is_array() && !candidates->empty()) {
    std::size_t position = 0;
    for (const auto& candidate : *candidates) {
      choices.push_back(choiceOf(candidate, position++));
    }
    return choices;
  }
  if (blockReason(response).empty()) {
    return nullptr;
  }
  // The prompt itself was blocked: no candidates, only promptFeedback.
  choices.push_back({{"index", 0},
                     {"message", {{"role", "assistant"}, {"content", nullptr}}},
                     {"logprobs", nullptr},
                     {"finish_reason", "content_filter"}});
  return choices;
}

}  // namespace

std::string finishReason(std::string_view reason, bool has_tool_calls) {
  if (reason == "MAX_TOKENS") {
    return "length";
  }
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" ||
      reason == "PROHIBITED_CONTENT" || reason == "SPII" || reason == "IMAGE_SAFETY") {
    return "content_filter";
  }
  return has_tool_calls ? "tool_calls" : "stop";
}

json openAiUsage(const json& metadata) {
  const long long prompt = tokenCount(metadata, "promptTokenCount").value_or(0);
  const long long thoughts = tokenCount(metadata, "thoughtsTokenCount").value_or(0);
  const long long completion = tokenCount(metadata, "candidatesTokenCount").value_or(0) + thoughts;
  return json{
      {"prompt_tokens", prompt},
      {"completion_tokens", completion},
      {"total_tokens", tokenCount(metadata, "totalTokenCount").value_or(prompt + completion)},
      {"prompt_tokens_details",
       {{"cached_tokens", tokenCount(metadata, "cachedContentTokenCount").value_or(0)}}},
      {"completion_tokens_details", {{"reasoning_tokens", thoughts}}}};
}

std::optional<Usage> usageCounts(const json& metadata) {
  Usage usage;
  usage.prompt_tokens = tokenCount(metadata, "promptTokenCount");
  usage.reasoning_tokens = tokenCount(metadata, "thoughtsTokenCount");
  if (auto candidates = tokenCount(metadata, "candidatesTokenCount")) {
    usage.completion_tokens = *candidates + usage.reasoning_tokens.value_or(0);
  } else {
    usage.completion_tokens = usage.reasoning_tokens;
  }
  usage.cached_tokens = tokenCount(metadata, "cachedContentTokenCount");
  return usage.empty() ? std::nullopt : std::optional(usage);
}

CandidateParts readParts(const json& candidate) {
  CandidateParts out;
  const json* content = member(candidate, "content");
  const json* parts = content != nullptr ? member(*content, "parts") : nullptr;
  if (parts == nullptr || !parts->is_array()) {
    return out;
  }
  for (const auto& part : *parts) {
    if (const json* thought = member(part, "thought"); thought != nullptr && *thought == true) {
      continue;
    }
    if (const json* text = member(part, "text"); text != nullptr && text->is_string()) {
      out.text += text->get<std::string>();
      out.has_text = true;
    }
    if (const json* call = member(part, "functionCall")) {
      const json* args = member(*call, "args");
      out.tool_calls.push_back(
          {{"id", openai::newId(kIdPrefix)},
           {"type", "function"},
           {"function",
            {{"name", stringMember(*call, "name")},
             {"arguments", args != nullptr ? args->dump() : std::string("{}")}}}});
    }
  }
  return out;
}

std::string blockReason(const json& response) {
  const json* feedback = member(response, "promptFeedback");
  return feedback != nullptr ? stringMember(*feedback, "blockReason") : std::string();
}

MappedResponse chatResponse(const ResponseContext& ctx, std::string_view body) {
  json response = parseJson(body);
  if (!response.is_object()) {
    return invalidResponse(ctx.provider, body);
  }
  try {
    json choices = choicesOf(response);
    if (choices.is_null()) {
      return invalidResponse(ctx.provider, body);
    }
    json out =
        openai::chatCompletion(ctx.id.empty() ? openai::newId(kIdPrefix) : ctx.id,
                               modelOf(response, ctx.request_model), ctx.created, ctx.provider);
    out["choices"] = std::move(choices);
    const json* metadata = member(response, "usageMetadata");
    out["usage"] = openAiUsage(metadata != nullptr ? *metadata : json::object());
    MappedResponse mapped{200, "application/json",
                          out.dump(-1, ' ', false, json::error_handler_t::replace)};
    mapped.usage = metadata != nullptr ? usageCounts(*metadata) : std::nullopt;
    return mapped;
  } catch (const std::exception&) {
    return invalidResponse(ctx.provider, body);
  }
}

MappedResponse errorResponse(std::string_view provider, const UpstreamReply& reply) {
  json parsed = parseJson(reply.body);
  if (parsed.is_array() && !parsed.empty()) {
    parsed = parsed[0];  // streamGenerateContent without alt=sse wraps errors in an array
  }
  const json* error = member(parsed, "error");
  if (error == nullptr || !error->is_object() || member(*error, "message") == nullptr) {
    return normaliseError(provider, reply);
  }
  const json* message = member(*error, "message");
  const json* status = member(*error, "status");
  if (status == nullptr) {
    status = member(*error, "type");  // Anthropic-shaped errors from Claude on Vertex
  }
  const json* code = member(*error, "code");
  return fromError(errors::providerError(
      reply.status, provider, message->is_string() ? message->get<std::string>() : message->dump(),
      status != nullptr ? *status : json(nullptr), nullptr,
      code != nullptr ? *code : json(nullptr)));
}

}  // namespace portico::providers::gemini
