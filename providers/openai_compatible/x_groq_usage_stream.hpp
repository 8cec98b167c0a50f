#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

// Groq's OpenAI-compatible stream reports usage as `x_groq.usage` on its last chunk, where
// clients look for `usage`. This relays the stream event by event and puts that usage where
// OpenAI's rules want it, exactly once: on the finishing chunk, or (include_usage) in a final
// chunk with no choices unless the upstream sent one. Ends with [DONE] in every clean case.
// usage() reports that usage to the gateway.
std::unique_ptr<StreamTransformer> makeXGroqUsageTransformer(std::string provider,
                                                             bool include_usage);

}  // namespace portico::providers
