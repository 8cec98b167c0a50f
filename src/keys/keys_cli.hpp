#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "portico/provider_registry.hpp"

namespace portico::keys {

// `portico keys <verb> ...` (args start after "keys"): create, list, show, update, rotate,
// disable, enable, delete, usage, rekey. Works on the store --store names (else PORTICO_STORE:
// "sqlite" or a postgres:// URL), by default the SQLite file in --data-dir (else
// PORTICO_DATA_DIR, else ./data), while gateways may be running on it. Secrets come from stdin
// (--api-key-stdin) or a file (--api-key-file F), never from argv. The master key comes from
// PORTICO_MASTER_KEY or --master-key-file. Returns the process exit code: 0 done, 1 refused
// (unknown key, invalid value, store error), 2 usage error; messages go to `err`.
int runKeysCli(const std::vector<std::string>& args,
               const ProviderRegistry& registry,
               std::istream& in,
               std::ostream& out,
               std::ostream& err);

}  // namespace portico::keys
