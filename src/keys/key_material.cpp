#include "keys/key_material.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "portico/encoding.hpp"

namespace portico::keys {
namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kIdBytes = 8;  // 16 hex characters
constexpr std::size_t kPrefixSize = 11;

std::string randomBytes(std::size_t size) {
  std::string bytes(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1) {
    throw std::runtime_error("RAND_bytes failed: no randomness for a new key");
  }
  return bytes;
}

}  // namespace

NewKey generateKey() {
  std::string bytes = randomBytes(kKeyBytes);
  NewKey key;
  key.key = "pk-" + hexEncode(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  key.hash = hashKey(key.key);
  key.prefix = displayPrefix(key.key);
  return key;
}

std::string hashKey(std::string_view key) { return sha256Hex(key); }

std::string displayPrefix(std::string_view key) { return std::string(key.substr(0, kPrefixSize)); }

std::string newKeyId() { return "vk_" + hexEncode(randomBytes(kIdBytes)); }

}  // namespace portico::keys
