#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "keys/key_service.hpp"

namespace portico::keys {

// One answer of the admin API: a status and a JSON body (errors in the gateway's error shape).
struct AdminAnswer {
  int status = 200;
  nlohmann::json body;
};

// The admin HTTP API over a KeyService, without any transport: the server hands it the
// request's method, path (starting "/admin/v1/"), query, Authorization header and body.
//   POST   /admin/v1/keys                 201 {"id", "key": "pk-...", ...keyView}
//   GET    /admin/v1/keys                 200 {"object": "list", "data": [keyView...]}
//   GET    /admin/v1/keys/{id}            200 keyView            (id or name)
//   PATCH  /admin/v1/keys/{id}            200 keyView
//   DELETE /admin/v1/keys/{id}            200 {"id", "deleted": true}
//   POST   /admin/v1/keys/{id}/rotate     200 {"id", "key": "pk-...", ...}
//   GET    /admin/v1/keys/{id}/usage      200 {"object": "list", "data": usageView}
//   GET    /admin/v1/usage                200 the same, every key  (?from=YYYY-MM-DD&to=...)
// "Authorization: Bearer <token>" must match `token`, compared in constant time, else 401.
// A path it does not know: 404; a method the path does not take: 405.
class AdminApi {
 public:
  // `changed` runs after every change, so the gateway reloads its keys at once.
  AdminApi(KeyService& service, std::string token, std::function<void()> changed);

  AdminAnswer handle(std::string_view method,
                     std::string_view path,
                     std::string_view query,
                     std::string_view authorization,
                     std::string_view body) const;

 private:
  KeyService& service_;
  std::string token_;
  std::function<void()> changed_;
};

}  // namespace portico::keys
