#pragma once

// The Gemini wire format <-> OpenAI's, shared by the `google` (Gemini API) and `vertex-ai`
// (Gemini on Vertex) adapters. Pure functions plus one stream transformer; no I/O.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "portico/error.hpp"
#include "portico/provider_adapter.hpp"

namespace portico::providers::gemini {

// "portico-<32 hex digits>": ids for completions and tool calls (Gemini sends none).
std::string newId();

// Percent-encodes a model name for use in a URL path; keeps letters, digits, "-._@".
// A leading "models/" is dropped.
std::string modelPathSegment(std::string_view model);

// The OpenAI chat body -> a Gemini GenerateContentRequest (no `model`). 400 on malformed input
// (unknown role, bad data URL, tool call arguments that are not JSON).
Expected<nlohmann::json> chatRequestBody(const nlohmann::json& openai_body);

// An OpenAI/JSON Schema -> the OpenAPI subset Gemini accepts: unknown keys (additionalProperties,
// $schema, ...) are dropped and `type: [T, "null"]` becomes `type: T, nullable: true`.
nlohmann::json cleanSchema(const nlohmann::json& schema);

// Gemini finishReason -> OpenAI finish_reason.
std::string finishReason(std::string_view reason, bool has_tool_calls);

// usageMetadata -> OpenAI usage.
nlohmann::json usage(const nlohmann::json& usage_metadata);

struct ResponseContext {
  std::string_view provider;       // "google" or "vertex-ai"
  std::string_view request_model;  // used when the answer has no modelVersion
  long long created = 0;
};

// A 2xx GenerateContentResponse body -> the client's chat.completion (or a 502 when the body is
// not a Gemini answer).
MappedResponse chatResponse(const ResponseContext& ctx, std::string_view body);

// A non-2xx Google answer ({"error":{code,message,status}}, possibly wrapped in an array) ->
// the normalised error, keeping the status. Falls back to the generic normaliser.
MappedResponse errorResponse(std::string_view provider, const UpstreamReply& reply);

// Streams of `data: {GenerateContentResponse}` SSE events (alt=sse) -> chat.completion.chunk SSE.
// `include_usage` follows stream_options.include_usage: usage then comes in an extra last chunk
// with empty choices (as OpenAI does); otherwise usage rides on the finish chunk.
std::unique_ptr<StreamTransformer> makeStreamTransformer(std::string provider,
                                                         std::string request_model,
                                                         long long created,
                                                         bool include_usage);

// The body's "model" string, or "" when absent.
std::string requestModel(const ClientRequest& request);

// Embedding vectors from a 2xx Gemini embedContent ({embedding:{values}}) or batchEmbedContents
// ({embeddings:[{values}]}) answer, as an array of arrays; null when the body is neither.
nlohmann::json embeddingVectors(const nlohmann::json& response);

// True when the OpenAI body asks for stream_options.include_usage.
bool wantsStreamUsage(const nlohmann::json* body);

// /v1/embeddings body -> (is_batch, Gemini body) for :embedContent / :batchEmbedContents.
// `model` is the bare model name used in batch requests ("models/<model>").
struct EmbedRequest {
  bool batch = false;
  nlohmann::json body;
};
Expected<EmbedRequest> embedRequestBody(const nlohmann::json& openai_body, std::string_view model);

// OpenAI's embeddings list from a vector of embeddings (each an array of numbers); encodes each
// as base64 little-endian float32 when `base64` is set (encoding_format: "base64").
nlohmann::json embeddingList(const nlohmann::json& vectors,
                             std::string_view model,
                             long long prompt_tokens,
                             bool base64);

// Whether the OpenAI embeddings body asks for encoding_format "base64".
bool wantsBase64(const nlohmann::json* body);

}  // namespace portico::providers::gemini
