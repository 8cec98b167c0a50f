#include "common/aws_sigv4.hpp"

#include <algorithm>
#include <cstdio>

#include "portico/encoding.hpp"

namespace portico::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Trims spaces/tabs at both ends and collapses inner runs of spaces, as canonical headers need.
std::string canonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; malformed escapes are kept literally.
std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hexValue(s[i + 1]);
      const int lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string canonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view param = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (param.empty()) continue;
    std::string_view key = param;
    std::string_view value;
    if (auto eq = param.find('='); eq != std::string_view::npos) {
      key = param.substr(0, eq);
      value = param.substr(eq + 1);
    }
    params.emplace_back(percentEncode(percentDecode(key)), percentEncode(percentDecode(value)));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(key).append("=").append(value);
  }
  return out;
}

// RFC 3986 dot-segment removal plus dropping empty segments; keeps a trailing slash.
std::string normalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string out;
  for (std::string_view seg : segments) out.append("/").append(seg);
  const bool trailing = !path.empty() && (path.back() == '/' || path.ends_with("/.") ||
                                          path.ends_with("/..") || path == "." || path == "..");
  if (out.empty() || trailing) out.push_back('/');
  return out;
}

std::string canonicalUri(const SigningInput& in) {
  if (in.service == "s3") return in.path.empty() ? "/" : in.path;
  return percentEncode(normalizePath(in.path), /*keep_slash=*/true);
}

// Every header signRequest signs: name (lower-case) to value, sorted, duplicates joined.
std::vector<std::pair<std::string, std::string>> headersToSign(const SigningInput& in,
                                                               const Credentials& creds,
                                                               bool include_content_sha) {
  std::vector<std::pair<std::string, std::string>> all;
  all.emplace_back("host", in.host);
  all.emplace_back("x-amz-date", amzDate(in.now));
  if (!creds.session_token.empty()) all.emplace_back("x-amz-security-token", creds.session_token);
  if (include_content_sha) all.emplace_back("x-amz-content-sha256", sha256Hex(in.payload));
  for (const auto& [name, value] : in.headers) all.emplace_back(asciiLower(name), value);
  // stable: repeated names keep their order when joined below.
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& [name, value] : all) {
    std::string v = canonicalHeaderValue(value);
    if (!merged.empty() && merged.back().first == name) {
      merged.back().second.append(",").append(v);
    } else {
      merged.emplace_back(std::move(name), std::move(v));
    }
  }
  return merged;
}

std::string signedHeaderList(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (!out.empty()) out.push_back(';');
    out.append(name);
  }
  return out;
}

std::string dateStamp(const SigningInput& in) { return amzDate(in.now).substr(0, 8); }

std::string credentialScope(const SigningInput& in) {
  return dateStamp(in) + "/" + in.region + "/" + in.service + "/aws4_request";
}

}  // namespace

std::string amzDate(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string canonicalRequest(const SigningInput& in,
                             const Credentials& creds,
                             bool include_content_sha) {
  const auto headers = headersToSign(in, creds, include_content_sha);
  std::string out;
  out.append(in.method).append("\n");
  out.append(canonicalUri(in)).append("\n");
  out.append(canonicalQuery(in.query)).append("\n");
  for (const auto& [name, value] : headers) out.append(name).append(":").append(value).append("\n");
  out.append("\n");
  out.append(signedHeaderList(headers)).append("\n");
  out.append(sha256Hex(in.payload));
  return out;
}

std::string stringToSign(const SigningInput& in, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amzDate(in.now));
  out.append("\n").append(credentialScope(in));
  out.append("\n").append(sha256Hex(canonical_request));
  return out;
}

std::string signature(const SigningInput& in,
                      const Credentials& creds,
                      std::string_view string_to_sign) {
  const std::string k_date = hmacSha256("AWS4" + creds.secret_access_key, dateStamp(in));
  const std::string k_region = hmacSha256(k_date, in.region);
  const std::string k_service = hmacSha256(k_region, in.service);
  const std::string k_signing = hmacSha256(k_service, "aws4_request");
  return hexEncode(hmacSha256(k_signing, string_to_sign));
}

std::vector<std::pair<std::string, std::string>> signRequest(const SigningInput& in,
                                                             const Credentials& creds,
                                                             bool include_content_sha) {
  const std::string creq = canonicalRequest(in, creds, include_content_sha);
  const std::string sts = stringToSign(in, creq);
  const std::string signed_headers =
      signedHeaderList(headersToSign(in, creds, include_content_sha));

  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("authorization", std::string(kAlgorithm) + " Credential=" + creds.access_key_id +
                                        "/" + credentialScope(in) +
                                        ", SignedHeaders=" + signed_headers +
                                        ", Signature=" + signature(in, creds, sts));
  out.emplace_back("x-amz-date", amzDate(in.now));
  if (include_content_sha) out.emplace_back("x-amz-content-sha256", sha256Hex(in.payload));
  if (!creds.session_token.empty()) out.emplace_back("x-amz-security-token", creds.session_token);
  return out;
}

}  // namespace portico::aws
