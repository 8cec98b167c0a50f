#include "telemetry/console_api.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <string_view>
#include <utility>

#include "portico/bearer_token.hpp"
#include "portico/error.hpp"
#include "telemetry/console_page.hpp"

namespace portico::telemetry {
namespace {

constexpr std::string_view kPage = "/console";
constexpr std::string_view kApi = "/console/api/";
constexpr std::string_view kJson = "application/json";
constexpr std::size_t kDefaultRecent = 100;

AdminReply jsonReply(int status, const nlohmann::json& body) {
  return AdminReply{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    std::string(kJson)};
}

AdminReply failure(int status, std::string message) {
  return jsonReply(status, errors::failure(status, std::move(message)).body);
}

AdminReply methodNotAllowed(std::string_view method, std::string_view path) {
  return failure(405, "Method " + std::string(method) + " is not allowed on " + std::string(path));
}

// As the admin API (the same constant-time check); no token set: the console is open.
bool authorized(std::string_view authorization, std::string_view expected) {
  return expected.empty() || bearerMatches(authorization, expected);
}

bool readsOnly(std::string_view method) { return method == "GET" || method == "HEAD"; }

// ?limit=N, clamped to 1..capacity; the default when absent or not a number.
std::size_t limitOf(std::string_view query, std::size_t capacity) {
  std::size_t limit = kDefaultRecent;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("limit=")) {
      const std::string_view digits = pair.substr(6);
      std::size_t value = 0;
      const auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (error == std::errc() && end == digits.data() + digits.size()) limit = value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::clamp<std::size_t>(limit, 1, std::max<std::size_t>(capacity, 1));
}

// 128 random bits in hex, new for every page, for its Content-Security-Policy.
std::string newNonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return "";
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (const unsigned char byte : bytes) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0F];
  }
  return out;
}

AdminReply page(const AdminCall& call) {
  if (!readsOnly(call.method)) return methodNotAllowed(call.method, call.path);
  const std::string nonce = newNonce();
  if (nonce.empty()) return failure(500, "No randomness for the console page's nonce");
  return AdminReply{200, consolePage(nonce), "text/html; charset=utf-8"};
}

AdminReply metrics(const ConsoleSources& sources, const AdminCall& call) {
  if (!readsOnly(call.method)) return methodNotAllowed(call.method, call.path);
  if (!sources.metrics) return failure(404, "Metrics are off (--metrics)");
  return AdminReply{200, sources.metrics(), "text/plain; version=0.0.4; charset=utf-8"};
}

AdminReply recent(const ConsoleSources& sources, const AdminCall& call) {
  if (!readsOnly(call.method)) return methodNotAllowed(call.method, call.path);
  nlohmann::json body;
  if (sources.recent != nullptr) {
    body = sources.recent->snapshotJson(limitOf(call.query, sources.recent->capacity()));
  } else {
    body = {{"object", "list"},
            {"capacity", 0},
            {"recorded", 0},
            {"dropped", 0},
            {"data", nlohmann::json::array()}};
  }
  body["now_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return jsonReply(200, body);
}

AdminReply handle(const ConsoleSources& sources, const AdminCall& call) {
  if (call.path == kPage || call.path == "/console/") return page(call);
  if (!call.path.starts_with(kApi)) {
    return failure(404, "No console route " + std::string(call.path));
  }
  if (!authorized(call.authorization, sources.token)) {
    return failure(401, "A valid admin token is needed: Authorization: Bearer <token>");
  }
  const std::string_view route = call.path.substr(kApi.size());
  if (route == "metrics") return metrics(sources, call);
  if (route == "recent") return recent(sources, call);
  return failure(404, "No console route " + std::string(call.path));
}

}  // namespace

std::function<AdminReply(const AdminCall&)> makeConsoleHandler(ConsoleSources sources) {
  auto shared = std::make_shared<const ConsoleSources>(std::move(sources));
  return [shared](const AdminCall& call) {
    AdminReply reply = handle(*shared, call);
    // What a <meta> policy cannot say: never framed (clickjacking), and its data never cached.
    reply.headers.emplace_back("content-security-policy", "frame-ancestors 'none'");
    reply.headers.emplace_back("x-frame-options", "DENY");
    reply.headers.emplace_back("cache-control", "no-store");
    reply.headers.emplace_back("x-content-type-options", "nosniff");
    return reply;
  };
}

}  // namespace portico::telemetry
