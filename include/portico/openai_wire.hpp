#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "portico/usage.hpp"

// OpenAI's wire format, which every client speaks and every translating provider produces: SSE
// events, chunk and completion skeletons, ids, usage, base64 embeddings. Core code; providers
// and the relay share it.
namespace portico::openai {

// "data: <json>\n\n".
std::string sseData(const nlohmann::json& payload);

// Appends [event: <name>\n]data: <json>\n\n for JSON text relayed as it came: on one data line,
// since a newline (LF or CR) in valid JSON is only whitespace (an upstream may split its data over lines,
// and clients read one line).
void appendSseEvent(std::string_view name, std::string_view json_text, std::string& out);

// "data: [DONE]\n\n".
std::string sseDone();

// The error event a client sees when a stream fails after its first byte:
// event: error
// data: {"error":{"message":"<provider> error: <message>","type":...,"param":null,"code":null},
//        "provider":"<provider>"}
// The stream ends after it (no [DONE]), so SDKs raise instead of returning a truncated answer:
// the OpenAI SDK (and LangChain on it) and the AI SDK on the error data, Portkey's SDK only on
// the `error` event name.
std::string sseError(std::string_view provider,
                     std::string_view message,
                     nlohmann::json type = "upstream_stream_error",
                     nlohmann::json code = nullptr);

// Whether a chat body asks for OpenAI's separate usage chunk: stream_options.include_usage is
// the boolean true (anything else, of any type, is no).
bool wantsIncludeUsage(const nlohmann::json* body);

// Seconds since the epoch, for `created`.
long long unixSeconds(std::chrono::system_clock::time_point now);

// A chat.completion.chunk skeleton: {id, object, created, model, provider?, choices:[]}.
nlohmann::json chatChunk(std::string_view id,
                         std::string_view model,
                         long long created,
                         std::string_view provider);

// A chat.completion skeleton: {id, object, created, model, provider?, choices:[]}.
nlohmann::json chatCompletion(std::string_view id,
                              std::string_view model,
                              long long created,
                              std::string_view provider);

// A gateway-made id: `prefix` followed by a random UUID's 32 hex digits.
std::string newId(std::string_view prefix);

// OpenAI's usage object {prompt_tokens, completion_tokens, total_tokens} (+ the details
// objects when cached or reasoning counts are set). total is the sum of the two counts.
nlohmann::json usageJson(const Usage& usage);

// OpenAI's base64 embedding: the little-endian float32 bytes of `vector` (numbers; anything
// else counts as 0), base64-encoded.
std::string base64Floats(const nlohmann::json& vector);

// The string value of body[key], or "" when the body is not an object or the value no string.
std::string stringField(const nlohmann::json* body, const char* key);

}  // namespace portico::openai
