#include "keys/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "portico/encoding.hpp"

namespace portico::keys {
namespace {

constexpr std::size_t kKeySize = 32;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kIdSize = 16;
constexpr const char* kWhitespace = " \t\r\n\f\v";

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Wipes a buffer that held key material or unauthenticated plaintext before it is freed.
void cleanse(std::string& buffer) {
  if (!buffer.empty()) OPENSSL_cleanse(buffer.data(), buffer.size());
}

std::string_view trim(std::string_view text) {
  const auto begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(kWhitespace);
  return text.substr(begin, end - begin + 1);
}

const unsigned char* bytesOf(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

unsigned char* bytesOf(std::string& text) { return reinterpret_cast<unsigned char*>(text.data()); }

// Sets cipher, key and nonce, then feeds the context as authenticated data.
bool startGcm(EVP_CIPHER_CTX* ctx,
              bool encrypt,
              const MasterKey& key,
              std::string_view nonce,
              std::string_view context) {
  const int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr) !=
          1 ||
      EVP_CipherInit_ex(ctx, nullptr, nullptr, bytesOf(key.bytes()), bytesOf(nonce), enc) != 1) {
    return false;
  }
  int len = 0;
  return context.empty() || EVP_CipherUpdate(ctx, nullptr, &len, bytesOf(context),
                                             static_cast<int>(context.size())) == 1;
}

}  // namespace

MasterKey MasterKey::fromBase64(std::string_view text) {
  std::optional<std::string> decoded = base64Decode(trim(text));
  if (!decoded) {
    throw std::invalid_argument("the master key is not base64 text");
  }
  if (decoded->size() != kKeySize) {
    const std::size_t size = decoded->size();
    cleanse(*decoded);
    throw std::invalid_argument("the master key must decode to 32 bytes, not " +
                                std::to_string(size));
  }
  MasterKey key;
  key.id_ = sha256Hex(*decoded).substr(0, kIdSize);
  key.bytes_ = std::move(*decoded);
  return key;
}

MasterKey MasterKey::fromFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::invalid_argument("cannot read the master key file " + path.string());
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    MasterKey key = fromBase64(text);
    cleanse(text);
    return key;
  } catch (const std::invalid_argument& e) {
    cleanse(text);
    throw std::invalid_argument(path.string() + ": " + e.what());
  }
}

std::optional<MasterKey> MasterKey::load(const std::filesystem::path& file) {
  if (const char* env = std::getenv("PORTICO_MASTER_KEY"); env && *env) {
    try {
      return fromBase64(env);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("PORTICO_MASTER_KEY: ") + e.what());
    }
  }
  if (!file.empty()) return fromFile(file);
  return std::nullopt;
}

std::string seal(const MasterKey& key, std::string_view plaintext, std::string_view context) {
  if (key.bytes().size() != kKeySize) {
    throw std::invalid_argument("seal: the master key is not loaded");
  }
  if (plaintext.size() > INT_MAX / 2 || context.size() > INT_MAX / 2) {
    throw std::invalid_argument("seal: input too large");
  }
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  if (RAND_bytes(bytesOf(out), static_cast<int>(kNonceSize)) != 1) {
    throw std::runtime_error("seal: RAND_bytes failed");
  }
  const std::string_view nonce(out.data(), kNonceSize);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && startGcm(ctx.get(), true, key, nonce, context);
  unsigned char* body = bytesOf(out) + kNonceSize;
  if (ok && !plaintext.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), body, &len, bytesOf(plaintext),
                           static_cast<int>(plaintext.size())) == 1;
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), body + plaintext.size(), &len) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                           body + plaintext.size()) == 1;
  if (!ok) {
    throw std::runtime_error("seal: AES-256-GCM encryption failed");
  }
  return base64Encode(out);
}

std::optional<std::string> unseal(const MasterKey& key,
                                  std::string_view sealed,
                                  std::string_view context) {
  if (key.bytes().size() != kKeySize || sealed.size() > INT_MAX / 2 ||
      context.size() > INT_MAX / 2) {
    return std::nullopt;
  }
  const std::optional<std::string> raw = base64Decode(sealed);
  if (!raw || raw->size() < kNonceSize + kTagSize) return std::nullopt;
  const std::string_view all(*raw);
  const std::string_view nonce = all.substr(0, kNonceSize);
  const std::string_view body = all.substr(kNonceSize, all.size() - kNonceSize - kTagSize);
  std::string tag(all.substr(all.size() - kTagSize));

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || !startGcm(ctx.get(), false, key, nonce, context)) return std::nullopt;
  std::string plaintext(body.size(), '\0');
  int len = 0;
  bool ok = body.empty() || EVP_DecryptUpdate(ctx.get(), bytesOf(plaintext), &len, bytesOf(body),
                                              static_cast<int>(body.size())) == 1;
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                           tag.data()) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), bytesOf(plaintext) + plaintext.size(), &len) == 1;
  if (!ok) {
    cleanse(plaintext);  // unauthenticated bytes must not linger
    return std::nullopt;
  }
  return plaintext;
}

}  // namespace portico::keys
