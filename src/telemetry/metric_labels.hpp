#pragma once

#include <cstdint>
#include <string_view>

#include "portico/endpoint.hpp"

namespace portico::telemetry {

// The endpoint label: chat_completions, completions, embeddings, messages, passthrough.
std::string_view endpointLabel(Endpoint endpoint);
constexpr std::uint32_t kEndpointCount = 5;

// The status_class label: 0 for none, 1..5 for 1xx..5xx, 6 for anything else.
std::uint32_t statusClass(int status);
std::string_view statusClassLabel(std::uint32_t status_class);

}  // namespace portico::telemetry
