#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace portico::telemetry {

// What one POST of a batch came to.
struct PostResult {
  int status = 0;     // the HTTP status; 0 when no answer came
  std::string body;   // the answer's body, bounded by the poster
  std::string error;  // why no answer came ("" when one did); never holds header values
};

using PostHeaders = std::vector<std::pair<std::string, std::string>>;

// Sends one OTLP/HTTP request and waits for the answer, for at most `timeout` in all. Called
// only on the exporter's thread. The core provides the real one (upstream/otlp_http_post.hpp):
// telemetry speaks no HTTP itself.
using OtlpPoster = std::function<PostResult(const std::string& url,
                                            const PostHeaders& headers,
                                            const std::string& body,
                                            std::chrono::milliseconds timeout)>;

}  // namespace portico::telemetry
