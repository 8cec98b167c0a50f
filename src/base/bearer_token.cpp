#include "portico/bearer_token.hpp"

#include <openssl/crypto.h>

#include <boost/algorithm/string/predicate.hpp>

namespace portico {

bool bearerMatches(std::string_view authorization, std::string_view expected) {
  constexpr std::string_view kBearer = "bearer ";
  if (expected.empty() || !boost::algorithm::istarts_with(authorization, kBearer)) {
    return false;
  }
  std::string_view given = authorization.substr(kBearer.size());
  while (!given.empty() && (given.front() == ' ' || given.front() == '\t')) given.remove_prefix(1);
  while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) given.remove_suffix(1);
  const bool same_length = given.size() == expected.size();
  const std::string_view probe = same_length ? given : expected;
  const bool same_bytes = CRYPTO_memcmp(probe.data(), expected.data(), expected.size()) == 0;
  return same_length & same_bytes;
}

}  // namespace portico
