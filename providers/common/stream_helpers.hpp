#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace portico::providers {

// "data: <json>\n\n".
std::string sseData(const nlohmann::json& payload);

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

}  // namespace portico::providers
