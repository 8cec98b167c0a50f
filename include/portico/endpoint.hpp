#pragma once

#include <string_view>

namespace portico {

// The gateway operation a client request asks for. Unified endpoints speak OpenAI's format and are
// translated per provider; kPassthrough forwards any other /v1/* request verbatim.
enum class Endpoint {
  kChatCompletions,
  kCompletions,
  kEmbeddings,
  kMessages,
  kPassthrough,
};

// Portkey's name for the operation ("chatComplete", "complete", "embed", "messages", "proxy").
std::string_view endpointName(Endpoint endpoint);

}  // namespace portico
