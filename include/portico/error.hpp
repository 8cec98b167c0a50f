#pragma once

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico {

// An error that ends a request: the HTTP status and the JSON body the client receives.
// Every such error is built by one of the functions in namespace `errors` below, so that the
// mapping from situation to status and body lives in one place (src/base/error.cpp).
struct GatewayError {
  // Not an aggregate: Expected<bool> must not read `true` as an error (C++20 builds aggregates
  // from parentheses, which would make every value convertible to GatewayError).
  GatewayError() = default;
  GatewayError(int status_code, nlohmann::json error_body, bool from_gateway = false)
      : status(status_code), body(std::move(error_body)), gateway_exception(from_gateway) {}

  int status = 500;
  nlohmann::json body;
  // Portkey marks errors raised by the gateway itself (not by an upstream) with
  // `x-portkey-gateway-exception: true`; such errors also stop a fallback chain.
  bool gateway_exception = false;
  // Answer headers the error carries (a rate limit's retry-after and x-ratelimit-*).
  std::vector<std::pair<std::string, std::string>> headers;
};

// Either a value or a GatewayError: Boost's result type, with the error the client receives.
template <class T>
using Expected = boost::system::result<T, GatewayError>;

// What Expected::value() throws when it holds an error (found by Boost.System through ADL).
[[noreturn]] void throw_exception_from_error(const GatewayError& error,
                                             const boost::source_location& location);

namespace errors {

// {"status":"failure","message":m,"error":{"message":m,"type":...,"param":null,"code":"..."}}:
// Portkey's shape for validation errors plus OpenAI's error object, so every client finds the
// text (Portkey's SDK reads `message`, OpenAI-style SDKs `error.message`).
GatewayError failure(int status, std::string message);
// 400 "Either x-portkey-config or x-portkey-provider header is required".
GatewayError missingProvider();
// 400 "Invalid provider passed".
GatewayError invalidProvider();
// 400 "Invalid config passed. You need to pass a valid json".
GatewayError configNotJson();
// 400 "Invalid config passed" with one "path: a,b, message: m" line per problem.
GatewayError invalidConfig(std::vector<std::string> problems);
// 400 "Invalid custom host".
GatewayError invalidCustomHost();
// 400 "Invalid content type passed".
GatewayError invalidContentType();
// 400 for a request body that is not valid JSON (Portkey answers 500 here; we do better).
GatewayError invalidJsonBody(std::string_view detail);
// 404 {"message":"Not Found","ok":false}.
GatewayError notFound();
// 413 for a request past the header or body limit.
GatewayError payloadTooLarge();
// 500 "<fn> is not supported by <provider>" (gateway exception).
GatewayError unsupportedEndpoint(std::string_view fn, std::string_view provider);
// 408 "Request exceeded the timeout sent in the request: <ms>ms".
GatewayError requestTimeout(long long timeout_ms);
// 502: the upstream could not be reached or broke the connection.
GatewayError upstreamUnreachable(std::string_view provider, std::string_view detail);
// 504: the upstream accepted the request but sent nothing within the read timeout.
GatewayError upstreamTimeout(std::string_view provider);
// An OpenAI-shaped error from a provider: {"error":{message,type,param,code},"provider":id}.
// `message` is prefixed with "<provider> error: ".
GatewayError providerError(int status,
                           std::string_view provider,
                           std::string_view message,
                           nlohmann::json type = nullptr,
                           nlohmann::json param = nullptr,
                           nlohmann::json code = nullptr);
// 401 when a provider needs a key and none was given (Portkey sends "Bearer undefined").
GatewayError missingApiKey(std::string_view provider);
// 401 when the gateway requires virtual keys (--auth virtual-keys) and a request names none.
GatewayError virtualKeyRequired();
// 503 while the server drains for shutdown.
GatewayError shuttingDown();

}  // namespace errors
}  // namespace portico
