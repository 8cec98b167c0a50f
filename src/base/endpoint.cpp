#include "portico/endpoint.hpp"

namespace portico {

std::string_view endpointName(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
      return "chatComplete";
    case Endpoint::kCompletions:
      return "complete";
    case Endpoint::kEmbeddings:
      return "embed";
    case Endpoint::kMessages:
      return "messages";
    case Endpoint::kResponses:
      return "createModelResponse";
    case Endpoint::kPassthrough:
      return "proxy";
  }
  return "proxy";
}

}  // namespace portico
