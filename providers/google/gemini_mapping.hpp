#pragma once

// The Gemini wire format <-> OpenAI's, shared by the `google` (Gemini API) and `vertex-ai`
// (Gemini on Vertex) adapters. Pure functions plus one stream transformer; no I/O. The work is
// split by job: gemini_request.cpp (messages), gemini_config.cpp (generation config, tools,
// schemas), gemini_response.cpp (answers, usage, errors), gemini_stream.cpp (SSE) and
// gemini_embeddings.cpp.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "portico/error.hpp"
#include "portico/provider_adapter.hpp"
#include "portico/usage.hpp"

namespace portico::providers::gemini {

// The prefix of the ids made for completions and tool calls (Gemini sends none): "portico-"
// and 32 hex digits.
inline constexpr std::string_view kIdPrefix = "portico-";

// Percent-encodes a model name for use in a URL path; keeps letters, digits, "-._@".
// A leading "models/" is dropped.
std::string modelPathSegment(std::string_view model);

// The OpenAI chat body -> a Gemini GenerateContentRequest (no `model`). 400 on malformed input
// (unknown role, bad data URL, tool call arguments that are not JSON).
Expected<nlohmann::json> chatRequestBody(const nlohmann::json& openai_body);

// The generationConfig, tools and toolConfig members of a GenerateContentRequest, from the
// OpenAI body, added to `out`. 400 on an unsupported response_format or tool_choice.
std::optional<GatewayError> addGenerationConfig(const nlohmann::json& openai_body,
                                                nlohmann::json& out);
std::optional<GatewayError> addTools(const nlohmann::json& openai_body, nlohmann::json& out);

// An OpenAI/JSON Schema -> the OpenAPI subset Gemini accepts: unknown keys (additionalProperties,
// $schema, ...) are dropped and `type: [T, "null"]` becomes `type: T, nullable: true`.
nlohmann::json cleanSchema(const nlohmann::json& schema);

// Gemini finishReason -> OpenAI finish_reason.
std::string finishReason(std::string_view reason, bool has_tool_calls);

// usageMetadata -> OpenAI usage: completion_tokens include thoughtsTokenCount, total is
// totalTokenCount when given; the details objects are always there (zeros when not given).
nlohmann::json openAiUsage(const nlohmann::json& usage_metadata);

// usageMetadata -> the gateway's counts: prompt = promptTokenCount, completion =
// candidatesTokenCount + thoughtsTokenCount (OpenAI counts reasoning as completion),
// cached = cachedContentTokenCount, reasoning = thoughtsTokenCount, each only where given.
// nullopt when `usage_metadata` gives none.
std::optional<Usage> usageCounts(const nlohmann::json& usage_metadata);

// The text and tool calls of one candidate's parts (thought parts are not answer text); each
// tool call gets a new id.
struct CandidateParts {
  std::string text;
  bool has_text = false;
  nlohmann::json tool_calls = nlohmann::json::array();
};
CandidateParts readParts(const nlohmann::json& candidate);

// promptFeedback.blockReason, or "" when the prompt was not blocked.
std::string blockReason(const nlohmann::json& response);

struct ResponseContext {
  std::string_view provider;       // "google" or "vertex-ai"
  std::string_view request_model;  // used when the answer has no modelVersion
  long long created = 0;
  std::string_view id;  // the completion's id; "" = a new one
};

// A 2xx GenerateContentResponse body -> the client's chat.completion with its usage (or a 502
// when the body is not a Gemini answer).
MappedResponse chatResponse(const ResponseContext& ctx, std::string_view body);

// A non-2xx Google answer ({"error":{code,message,status}}, possibly wrapped in an array) ->
// the normalised error, keeping the status. Falls back to the generic normaliser.
MappedResponse errorResponse(std::string_view provider, const UpstreamReply& reply);

// Streams of `data: {GenerateContentResponse}` SSE events (alt=sse) -> chat.completion.chunk SSE,
// for the chat `request` (its model until the answer names one, its `created`, and its
// stream_options.include_usage: usage then comes in an extra last chunk with empty choices, as
// OpenAI does; otherwise usage rides on the finish chunk). `id` names every chunk.
std::unique_ptr<StreamTransformer> makeStreamTransformer(std::string provider,
                                                         const ClientRequest& request,
                                                         std::string id);

// /v1/embeddings body -> (is_batch, Gemini body) for :embedContent / :batchEmbedContents.
// `model` is the bare model name used in batch requests ("models/<model>").
struct EmbedRequest {
  bool batch = false;
  nlohmann::json body;
};
Expected<EmbedRequest> embedRequestBody(const nlohmann::json& openai_body, std::string_view model);

// Embedding vectors from a 2xx Gemini embedContent ({embedding:{values}}) or batchEmbedContents
// ({embeddings:[{values}]}) answer, as an array of arrays; null when the body is neither.
nlohmann::json embeddingVectors(const nlohmann::json& response);

// OpenAI's embeddings list from a vector of embeddings (each an array of numbers), each encoded
// as base64 little-endian float32 when `base64` is set (encoding_format: "base64"). The usage
// says `prompt_tokens` (0 when the provider reported none); MappedResponse::usage is set only
// when it did.
MappedResponse embeddingResponse(const nlohmann::json& vectors,
                                 std::string_view model,
                                 std::optional<long long> prompt_tokens,
                                 bool base64);

// Whether the OpenAI embeddings body asks for encoding_format "base64".
bool wantsBase64(const nlohmann::json* body);

}  // namespace portico::providers::gemini
