#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace portico {

// SSRF guard for custom hosts (`x-portkey-custom-host`, config `custom_host`), after Portkey's
// isValidCustomHost. A URL is allowed when it is http(s), carries no credentials, and its host
// is either trusted or a public name or address. Rejected: metadata endpoints, internal TLDs,
// private/reserved IPv4 and IPv6 ranges, non-canonical IPv4 spellings (2130706433, 0x7f.0.0.1,
// 0177.0.0.1, 127.1), ports outside 1-65535. Trusted hosts skip every check but the port one;
// `*.localhost` is trusted exactly when `localhost` is (as in Portkey). An untrusted `localhost`
// or `*.localhost` is rejected (Portkey lets a bare `localhost` through once its list is
// replaced; we do not). The upstream client also judges every address a custom host resolves
// to (allowsResolvedAddress). Thread-safe: both only read.
class CustomHostPolicy {
 public:
  // `trusted_hosts` replaces the default list, like Portkey's TRUSTED_CUSTOM_HOSTS. Entries are
  // host names or addresses (IPv6 with or without brackets), compared case-insensitively. An
  // entry may name a private address (e.g. 10.0.0.5) to allow exactly that host. An empty list
  // trusts nothing.
  explicit CustomHostPolicy(std::vector<std::string> trusted_hosts = defaultTrustedHosts());

  // {localhost, 127.0.0.1, ::1, host.docker.internal}.
  static std::vector<std::string> defaultTrustedHosts();

  // Splits a comma-separated list, trimming and lower-casing entries and dropping empty ones.
  static std::vector<std::string> parseList(std::string_view list);

  // True when `url` may be used as a provider base URL. Never throws.
  bool isAllowed(std::string_view url) const;

  // An address in IPv6 form; IPv4 addresses as IPv4-mapped (::ffff:a.b.c.d).
  using Address = std::array<unsigned char, 16>;

  // Judges an address that `host` (a URL that passed isAllowed) resolved to, at connect time,
  // so a DNS answer cannot lead a custom host to a private or metadata address: allowed when
  // `host` is trusted by name, the address is a trusted entry, or it is in no blocked range.
  bool allowsResolvedAddress(std::string_view host, const Address& address) const;

  const std::vector<std::string>& trustedHosts() const { return trusted_; }

 private:
  bool isTrustedName(std::string_view host) const;

  std::vector<std::string> trusted_;        // normalised: lower-case, IPv6 without brackets
  std::vector<Address> trusted_addresses_;  // the entries that are IP literals
};

}  // namespace portico
