#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary (STS) credentials
};

struct SigningInput {
  std::string method;
  std::string host;   // as sent in the Host header, with ":port" when not the default
  std::string path;   // as it will be sent, already URI-encoded per segment (see below)
  std::string query;  // raw query without '?', may be empty
  // Headers to sign besides host and x-amz-date. Names are lower-cased and repeated names are
  // joined with ',' in order, as SigV4 requires.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view payload;
  std::string region;
  std::string service;
  std::chrono::system_clock::time_point now;
};

// Signs a request with AWS Signature Version 4 and returns the headers to add to it:
// authorization, x-amz-date, x-amz-content-sha256 (only when include_content_sha is set) and
// x-amz-security-token (when creds carry a session token). The security token and content hash
// headers are signed too.
std::vector<std::pair<std::string, std::string>> signRequest(const SigningInput& in,
                                                             const Credentials& creds,
                                                             bool include_content_sha = false);

// The pieces of signRequest, exposed for tests.

// The canonical request signRequest signs for these arguments.
//
// Canonical URI: for every service but "s3" the path is normalised (empty and "." segments
// dropped, ".." resolved) and then percent-encoded once more with '/' kept, so an
// already-encoded "%3A" becomes "%253A" ("double encoding", which Bedrock and other non-S3
// services expect). For "s3" the path is used as given.
// Canonical query: every name and value is percent-decoded, then percent-encoded ('+' is taken
// literally) and the pairs are sorted by name, then value.
// (Digests, HMAC and percent-encoding are portico/encoding.hpp's.)
std::string canonicalRequest(const SigningInput& in,
                             const Credentials& creds,
                             bool include_content_sha = false);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical_request>".
std::string stringToSign(const SigningInput& in, std::string_view canonical_request);

// The signature for a string to sign (lower-case hex).
std::string signature(const SigningInput& in,
                      const Credentials& creds,
                      std::string_view string_to_sign);

// "YYYYMMDDTHHMMSSZ" in UTC.
std::string amzDate(std::chrono::system_clock::time_point t);

}  // namespace portico::aws
