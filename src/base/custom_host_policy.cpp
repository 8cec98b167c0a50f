#include "portico/custom_host_policy.hpp"

#include <algorithm>
#include <boost/url.hpp>
#include <cstdint>
#include <utility>

#include "portico/http_types.hpp"

namespace portico {
namespace {

constexpr std::size_t kMaxUrlLength = 8192;
constexpr std::size_t kMaxLabels = 10;

// Cloud metadata endpoints (AWS, GCP, Azure, Kubernetes).
constexpr std::string_view kBlockedHosts[] = {"metadata.google.internal", "metadata",
                                              "metadata.azure.com", "instance-data"};

// Special-use and internal TLDs often used in SSRF attempts.
constexpr std::string_view kBlockedSuffixes[] = {
    ".local", ".localdomain", ".internal", ".intranet", ".lan",      ".home",
    ".corp",  ".test",        ".invalid",  ".onion",    ".localhost"};

struct Ipv4Range {
  std::uint32_t base;
  int prefix;
};

// Private (RFC 1918) and reserved IPv4 ranges.
constexpr Ipv4Range kBlockedIpv4[] = {
    {0x0A000000u, 8},   // 10/8
    {0xAC100000u, 12},  // 172.16/12
    {0xC0A80000u, 16},  // 192.168/16
    {0x7F000000u, 8},   // 127/8 loopback
    {0xA9FE0000u, 16},  // 169.254/16 link-local (metadata)
    {0x64400000u, 10},  // 100.64/10 CGNAT
    {0x00000000u, 8},   // 0/8 "this" network
    {0xE0000000u, 3},   // 224/3 multicast, reserved, broadcast
};

char toLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string toLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), toLowerAscii);
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

// Lower-cases an entry and strips IPv6 brackets so it compares with url hosts.
std::string normaliseEntry(std::string_view entry) {
  std::string out = toLower(trim(entry));
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']')
    out = out.substr(1, out.size() - 2);
  return out;
}

bool isBlockedIpv4(std::uint32_t address) {
  for (const auto& range : kBlockedIpv4) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - range.prefix);
    if ((address & mask) == range.base) return true;
  }
  return false;
}

std::uint32_t ipv4At(const std::array<unsigned char, 16>& b, int offset) {
  return (std::uint32_t{b[offset]} << 24) | (std::uint32_t{b[offset + 1]} << 16) |
         (std::uint32_t{b[offset + 2]} << 8) | std::uint32_t{b[offset + 3]};
}

bool isBlockedIpv6(const std::array<unsigned char, 16>& b) {
  if ((b[0] & 0xFE) == 0xFC) return true;          // fc00::/7 unique local (incl. fd00:ec2::254)
  if (b[0] == 0xFE && (b[1] & 0x80)) return true;  // fe80::/10 link-local, fec0::/10 site-local
  if (b[0] == 0xFF) return true;                   // ff00::/8 multicast
  const bool zero80 = std::all_of(b.begin(), b.begin() + 10, [](unsigned char x) { return !x; });
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; also :: and ::1, which fall in 0/8).
  if (zero80 && ((b[10] == 0xFF && b[11] == 0xFF) || (b[10] == 0 && b[11] == 0))) {
    return isBlockedIpv4(ipv4At(b, 12));
  }
  // 64:ff9b::/96 NAT64 reaches the embedded IPv4 address.
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B &&
      std::all_of(b.begin() + 4, b.begin() + 12, [](unsigned char x) { return !x; })) {
    return isBlockedIpv4(ipv4At(b, 12));
  }
  return false;
}

// A label that a WHATWG URL parser would read as a number, which turns the whole host into an
// IPv4 address in decimal, hex, octal or shortened form.
bool looksNumeric(std::string_view label) {
  if (label.empty()) return false;
  if (label.size() >= 2 && label[0] == '0' && label[1] == 'x') {
    return std::all_of(label.begin() + 2, label.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  }
  return std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool validPort(std::string_view port) {
  if (port.empty()) return true;  // "host:" means the scheme's default port
  if (port.size() > 5) return false;
  std::uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace

CustomHostPolicy::CustomHostPolicy(std::vector<std::string> trusted_hosts) {
  for (const auto& entry : trusted_hosts) {
    std::string host = normaliseEntry(entry);
    if (host.empty()) continue;
    if (auto v6 = boost::urls::parse_ipv6_address(host)) {
      trusted_addresses_.push_back(v6->to_bytes());
    } else if (auto v4 = boost::urls::parse_ipv4_address(host)) {
      trusted_addresses_.push_back(boost::urls::ipv6_address(*v4).to_bytes());
    }
    trusted_.push_back(std::move(host));
  }
}

std::vector<std::string> CustomHostPolicy::defaultTrustedHosts() {
  return {"localhost", "127.0.0.1", "::1", "host.docker.internal"};
}

std::vector<std::string> CustomHostPolicy::parseList(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = list.find(',');
    std::string entry = normaliseEntry(list.substr(0, comma));
    if (!entry.empty()) out.push_back(std::move(entry));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool CustomHostPolicy::isAllowed(std::string_view url) const {
  try {
    if (url.empty() || url.size() > kMaxUrlLength) return false;
    // Whitespace, control and non-ASCII bytes: injection or homograph attempts.
    for (char c : url) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7F) return false;
    }
    if (toLower(url).find("api.portkey") != std::string::npos) return false;
    // '@' anywhere (not only in userinfo) is a classic parser-confusion trick.
    if (url.find('@') != std::string_view::npos) return false;

    if (!looksLikeHttpUrl(url)) return false;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return false;
    const boost::urls::url_view& u = *parsed;
    const std::string scheme = toLower(u.scheme());
    if (scheme != "http" && scheme != "https") return false;
    if (!u.has_authority() || u.has_userinfo()) return false;
    // Boost.URL 1.81 accepts "http://1.2.3.4.5/" and "http://h:80a/" by starting the path
    // inside the authority; another parser would see a different host, so demand the RFC shape.
    const auto path = u.encoded_path();
    if (!path.empty() && path.front() != '/') return false;
    const auto authority_start = url.find("//") + 2;
    const auto authority_end = url.find_first_of("/?#", authority_start);
    const auto authority = u.encoded_authority();
    if (url.substr(authority_start, authority_end - authority_start) !=
        std::string_view(authority.data(), authority.size())) {
      return false;
    }
    if (u.has_port() && !validPort(u.port())) return false;

    if (u.host_type() == boost::urls::host_type::ipv6) {
      const auto bytes = u.host_ipv6_address().to_bytes();
      if (std::find(trusted_addresses_.begin(), trusted_addresses_.end(), bytes) !=
          trusted_addresses_.end()) {
        return true;
      }
      return !isBlockedIpv6(bytes);
    }
    const bool is_ipv4 = u.host_type() == boost::urls::host_type::ipv4;
    if (!is_ipv4 && u.host_type() != boost::urls::host_type::name) return false;

    const auto encoded = u.encoded_host();
    const std::string host = toLower(std::string_view(encoded.data(), encoded.size()));
    if (host.empty() || host.back() == '.') return false;
    // Only [a-z0-9.-]: rejects '%'-encoding, '_' and anything else a resolver may reinterpret.
    for (char c : host) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
        return false;
      }
    }
    std::vector<std::string_view> labels;
    for (std::string_view rest = host;;) {
      const auto dot = rest.find('.');
      labels.push_back(rest.substr(0, dot));
      if (labels.back().empty() || labels.size() > kMaxLabels) return false;
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }

    // Trusted hosts skip the remaining checks (the port was checked above).
    if (isTrustedName(host)) return true;

    if (std::find(std::begin(kBlockedHosts), std::end(kBlockedHosts), host) !=
        std::end(kBlockedHosts)) {
      return false;
    }
    if (host.starts_with("169.254.169.")) return false;
    if (host == "localhost") return false;
    for (std::string_view suffix : kBlockedSuffixes) {
      if (host.ends_with(suffix)) return false;
    }
    if (is_ipv4) return !isBlockedIpv4(u.host_ipv4_address().to_uint());
    // A numeric last label makes browsers and Node read the host as an IPv4 address (2130706433,
    // 0x7f.0.0.1, 0177.0.0.1, 127.1); only canonical dotted quads are accepted.
    return !looksNumeric(labels.back());
  } catch (...) {
    return false;
  }
}

bool CustomHostPolicy::isTrustedName(std::string_view host) const {
  const auto trusted = [&](std::string_view name) {
    return std::find(trusted_.begin(), trusted_.end(), name) != trusted_.end();
  };
  return trusted(host) || (host.ends_with(".localhost") && trusted("localhost"));
}

bool CustomHostPolicy::allowsResolvedAddress(std::string_view host, const Address& address) const {
  if (isTrustedName(toLower(host))) return true;
  if (std::find(trusted_addresses_.begin(), trusted_addresses_.end(), address) !=
      trusted_addresses_.end()) {
    return true;
  }
  return !isBlockedIpv6(address);
}

}  // namespace portico
