#include "telemetry/metric_labels.hpp"

#include <array>

namespace portico::telemetry {

std::string_view endpointLabel(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
      return "chat_completions";
    case Endpoint::kCompletions:
      return "completions";
    case Endpoint::kEmbeddings:
      return "embeddings";
    case Endpoint::kMessages:
      return "messages";
    case Endpoint::kResponses:
      return "responses";
    case Endpoint::kPassthrough:
      break;
  }
  return "passthrough";
}

std::uint32_t statusClass(int status) {
  if (status <= 0) {
    return 0;
  }
  return status >= 100 && status < 600 ? static_cast<std::uint32_t>(status / 100) : 6;
}

std::string_view statusClassLabel(std::uint32_t status_class) {
  static constexpr std::array<std::string_view, 7> kLabels = {"none", "1xx", "2xx",  "3xx",
                                                              "4xx",  "5xx", "other"};
  return kLabels[status_class < kLabels.size() ? status_class : 6];
}

}  // namespace portico::telemetry
