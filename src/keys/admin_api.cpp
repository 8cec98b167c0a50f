#include "keys/admin_api.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "portico/bearer_token.hpp"
#include "portico/json_parse.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/admin/v1/";

AdminAnswer answer(int status, json body) { return AdminAnswer{status, std::move(body)}; }

AdminAnswer answer(const GatewayError& error) { return AdminAnswer{error.status, error.body}; }

AdminAnswer unauthorized() {
  return answer(
      errors::failure(401, "A valid admin token is needed: Authorization: Bearer <token>"));
}

AdminAnswer routeNotFound(std::string_view path) {
  return answer(errors::failure(404, "No admin route " + std::string(path)));
}

AdminAnswer methodNotAllowed(std::string_view method, std::string_view path) {
  return answer(errors::failure(
      405, "Method " + std::string(method) + " is not allowed on " + std::string(path)));
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A path segment with its %XX escapes decoded (a name may hold spaces); nothing on a bad escape.
std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hexValue(text[i + 1]);
    const int low = hexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// The path after /admin/v1/, split at '/', each segment decoded; nothing for an empty or badly
// escaped segment.
std::optional<std::vector<std::string>> segments(std::string_view rest) {
  std::vector<std::string> out;
  while (true) {
    const auto slash = rest.find('/');
    auto decoded = percentDecode(rest.substr(0, slash));
    if (!decoded || decoded->empty()) return std::nullopt;
    out.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) return out;
    rest.remove_prefix(slash + 1);
  }
}

// The value of `name` in a query string ("" when absent). Left escaped: the only values read
// are days, which the service checks as YYYY-MM-DD.
std::string queryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

Expected<KeySpec> specFromBody(std::string_view body) {
  const json parsed = parseJson(body);
  if (parsed.is_discarded()) return errors::failure(400, "The body is not valid JSON");
  return keySpecFromJson(parsed);
}

json withKey(const KeyService::Created& created) {
  json view = keyView(created.record);
  view["key"] = created.key;
  return view;
}

json listOf(json data) { return {{"object", "list"}, {"data", std::move(data)}}; }

// The routes, over one service; `changed` runs after every change.
class Router {
 public:
  KeyService& service;
  const std::function<void()>& changed;

  AdminAnswer route(std::string_view method,
                    std::string_view path,
                    const std::vector<std::string>& parts,
                    std::string_view query,
                    std::string_view body) {
    const std::string from = queryValue(query, "from");
    const std::string to = queryValue(query, "to");
    if (parts.size() == 1 && parts[0] == "usage") {
      if (method != "GET") return methodNotAllowed(method, path);
      return usage("", from, to);
    }
    if (parts.empty() || parts[0] != "keys" || parts.size() > 3) return routeNotFound(path);
    if (parts.size() == 1) {
      if (method == "GET") return listKeys();
      if (method == "POST") return createKey(body);
      return methodNotAllowed(method, path);
    }
    const std::string& ref = parts[1];
    if (parts.size() == 2) {
      if (method == "GET") return getKey(ref);
      if (method == "PATCH") return updateKey(ref, body);
      if (method == "DELETE") return deleteKey(ref);
      return methodNotAllowed(method, path);
    }
    if (parts[2] == "rotate") {
      return method == "POST" ? rotateKey(ref) : methodNotAllowed(method, path);
    }
    if (parts[2] == "usage") {
      return method == "GET" ? usage(ref, from, to) : methodNotAllowed(method, path);
    }
    return routeNotFound(path);
  }

  AdminAnswer listKeys() {
    json data = json::array();
    for (const KeyRecord& record : service.list()) data.push_back(keyView(record));
    return answer(200, listOf(std::move(data)));
  }

  AdminAnswer createKey(std::string_view body) {
    auto spec = specFromBody(body);
    if (!spec) return answer(spec.error());
    auto created = service.create(*spec);
    if (!created) return answer(created.error());
    notifyChanged();
    return answer(201, withKey(*created));
  }

  AdminAnswer getKey(const std::string& ref) {
    auto record = service.get(ref);
    if (!record) return answer(record.error());
    return answer(200, keyView(*record));
  }

  AdminAnswer updateKey(const std::string& ref, std::string_view body) {
    auto spec = specFromBody(body);
    if (!spec) return answer(spec.error());
    auto updated = service.update(ref, *spec);
    if (!updated) return answer(updated.error());
    notifyChanged();
    return answer(200, keyView(*updated));
  }

  AdminAnswer deleteKey(const std::string& ref) {
    auto record = service.get(ref);
    if (!record) return answer(record.error());
    auto removed = service.remove(record->id);
    if (!removed) return answer(removed.error());
    notifyChanged();
    return answer(200, {{"id", record->id}, {"object", "virtual_key"}, {"deleted", true}});
  }

  AdminAnswer rotateKey(const std::string& ref) {
    auto rotated = service.rotate(ref);
    if (!rotated) return answer(rotated.error());
    notifyChanged();
    return answer(200, withKey(*rotated));
  }

  AdminAnswer usage(const std::string& ref, const std::string& from, const std::string& to) {
    auto rows = service.usage(ref, from, to);
    if (!rows) return answer(rows.error());
    return answer(200, listOf(usageView(*rows)));
  }

  void notifyChanged() {
    if (changed) changed();
  }
};

}  // namespace

AdminApi::AdminApi(KeyService& service, std::string token, std::function<void()> changed)
    : service_(service), token_(std::move(token)), changed_(std::move(changed)) {}

AdminAnswer AdminApi::handle(std::string_view method,
                             std::string_view path,
                             std::string_view query,
                             std::string_view authorization,
                             std::string_view body) const {
  // A missing header is compared like a wrong token: the same work either way.
  if (!bearerMatches(authorization, token_)) return unauthorized();
  if (!path.starts_with(kPrefix)) return routeNotFound(path);
  auto parts = segments(path.substr(kPrefix.size()));
  if (!parts) return routeNotFound(path);
  try {
    return Router{service_, changed_}.route(method, path, *parts, query, body);
  } catch (const std::exception& e) {
    spdlog::error("admin API {} {}: {}", method, path, e.what());
    return answer(errors::failure(500, "The admin API failed; see the gateway's log"));
  }
}

}  // namespace portico::keys
