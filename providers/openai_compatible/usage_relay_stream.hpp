#pragma once

#include <memory>
#include <string>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

// For an OpenAI-format stream whose request the gateway gave stream_options.include_usage the
// client did not ask for: relays the upstream's chunks event by event, each chunk's JSON bytes
// unchanged, [DONE] included, except that it drops the usage-only chunk (`"choices":[]` with a
// usage object) and the `"usage":null` the option puts on every other chunk, and reports that
// usage through usage(). What an OpenAI client could not read (comments, keep-alives, data that
// is not JSON) is left out, and events go out as "data: ...\n\n" whatever the upstream's line
// ends. A broken stream ends with an error event naming `provider`, a clean one with [DONE].
std::unique_ptr<StreamTransformer> makeUsageRelayStream(std::string provider);

}  // namespace portico::providers
