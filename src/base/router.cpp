#include "base/router.hpp"

#include <array>
#include <utility>

namespace portico {

Route routeRequest(std::string_view method, std::string_view target) {
  Route route;
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) {
    route.query = std::string(target.substr(question + 1));
  }
  const bool get = method == "GET" || method == "HEAD";
  if (path == "/") {
    route.kind = get ? RouteKind::kRoot : RouteKind::kNotFound;
    return route;
  }
  if (path == "/health") {
    route.kind = get ? RouteKind::kHealth : RouteKind::kNotFound;
    return route;
  }
  if (path == "/ready") {
    route.kind = get ? RouteKind::kReady : RouteKind::kNotFound;
    return route;
  }
  if (path == "/metrics") {
    route.kind = get ? RouteKind::kMetrics : RouteKind::kNotFound;
    return route;
  }
  if (path == "/console" || path.starts_with("/console/")) {
    route.kind = RouteKind::kConsole;
    route.path = std::string(path);
    return route;
  }
  if (path.starts_with("/admin/")) {
    route.kind = RouteKind::kAdmin;
    route.path = std::string(path);
    return route;
  }
  if (!path.starts_with("/v1/")) {
    return route;
  }
  std::string_view rest = path.substr(3);
  if (method == "POST") {
    static constexpr std::array<std::pair<std::string_view, Endpoint>, 5> kUnified = {{
        {"/chat/completions", Endpoint::kChatCompletions},
        {"/completions", Endpoint::kCompletions},
        {"/embeddings", Endpoint::kEmbeddings},
        {"/messages", Endpoint::kMessages},
        {"/responses", Endpoint::kResponses},
    }};
    for (const auto& [unified_path, endpoint] : kUnified) {
      if (rest == unified_path) {
        route.kind = RouteKind::kGateway;
        route.endpoint = endpoint;
        route.path = std::string(rest);
        return route;
      }
    }
    if (rest.starts_with("/proxy/")) {
      rest = rest.substr(6);  // the deprecated /v1/proxy/* form
    }
  }
  if (method == "GET" || method == "POST" || method == "DELETE") {
    route.kind = RouteKind::kGateway;
    route.endpoint = Endpoint::kPassthrough;
    route.path = std::string(rest);
  }
  return route;
}

}  // namespace portico
