#pragma once

#include <string_view>

namespace portico {

// The gateway operation a client request asks for. Unified endpoints speak OpenAI's format and are
// translated per provider; kPassthrough forwards any other /v1/* request verbatim.
enum class Endpoint {
  kChatCompletions,
  kCompletions,
  kEmbeddings,
  kMessages,   // Anthropic's Messages API
  kResponses,  // OpenAI's Responses API (POST /v1/responses)
  kPassthrough,
};

// Portkey's name for the operation ("chatComplete", "complete", "embed", "messages",
// "createModelResponse", "proxy").
std::string_view endpointName(Endpoint endpoint);

}  // namespace portico
