#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "portico/error.hpp"

namespace portico::keys {

// The 32-byte key that seals provider credentials at rest. Its id is the first 16 hex
// characters of the SHA-256 of the key bytes: stored next to each sealed secret, so a rotated
// store says which key it needs without holding that key.
class MasterKey {
 public:
  // From base64 text (what `openssl rand -base64 32` prints; surrounding whitespace ignored).
  // Throws std::invalid_argument (a message without the key) unless it decodes to 32 bytes.
  static MasterKey fromBase64(std::string_view text);
  // From a file holding that text.
  static MasterKey fromFile(const std::filesystem::path& path);
  // PORTICO_MASTER_KEY, else the file (when not empty), else nothing.
  static std::optional<MasterKey> load(const std::filesystem::path& file);

  const std::string& id() const { return id_; }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  std::string id_;
};

// AES-256-GCM with a random 96-bit nonce; `context` (the key record's id) is authenticated
// data, so a sealed secret moved to another record does not open.
std::string seal(const MasterKey& key, std::string_view plaintext, std::string_view context);
// The plaintext, or nothing when the text was tampered with, sealed under another key or for
// another context.
std::optional<std::string> unseal(const MasterKey& key,
                                  std::string_view sealed,
                                  std::string_view context);

}  // namespace portico::keys
