#pragma once

#include <string>
#include <string_view>

namespace portico::keys {

// A freshly made virtual key: shown once, then only its hash and prefix are kept.
struct NewKey {
  std::string key;     // "pk-" + 64 hex characters (256 bits from OpenSSL's CSPRNG)
  std::string hash;    // hashKey(key)
  std::string prefix;  // displayPrefix(key)
};

NewKey generateKey();
// Lower-case hex SHA-256 of the key as presented.
std::string hashKey(std::string_view key);
// What listings show of a key: its first 11 characters.
std::string displayPrefix(std::string_view key);
// A record id: "vk_" + 16 random hex characters.
std::string newKeyId();

}  // namespace portico::keys
