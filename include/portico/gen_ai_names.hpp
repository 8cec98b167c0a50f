#pragma once

#include <string_view>

namespace portico {

// OpenTelemetry's gen_ai.provider.name for a Portkey provider id: the semantic conventions'
// well-known value where there is one ("aws.bedrock" for "bedrock", "gcp.gemini" for "google",
// ...), else the id itself (a view of the argument). Lives with the providers because src/ may
// not name them.
std::string_view genAiProviderName(std::string_view portkey_provider_id);

}  // namespace portico
