#include "portico/error.hpp"

#include <stdexcept>
#include <string>

namespace portico {

void throw_exception_from_error(const GatewayError& error, const boost::source_location&) {
  std::string message = "gateway error " + std::to_string(error.status);
  if (error.body.is_object()) {
    if (auto it = error.body.find("message"); it != error.body.end() && it->is_string()) {
      message = it->get<std::string>();
    }
  }
  throw std::runtime_error(message);
}

}  // namespace portico

namespace portico::errors {

using nlohmann::json;

namespace {

// The OpenAI error type and a string code for a status, for errors the gateway makes itself.
std::pair<const char*, const char*> typeAndCode(int status) {
  switch (status) {
    case 400:
      return {"invalid_request_error", "bad_request"};
    case 401:
      return {"authentication_error", "unauthorized"};
    case 403:
      return {"permission_error", "forbidden"};
    case 404:
      return {"not_found_error", "not_found"};
    case 408:
      return {"timeout_error", "request_timeout"};
    case 413:
      return {"invalid_request_error", "payload_too_large"};
    case 429:
      return {"rate_limit_error", "rate_limited"};
    case 501:
      return {"invalid_request_error", "not_implemented"};
    case 502:
      return {"api_error", "bad_gateway"};
    case 503:
      return {"api_error", "service_unavailable"};
    case 504:
      return {"timeout_error", "gateway_timeout"};
    default:
      return {status >= 500 ? "api_error" : "invalid_request_error", "error"};
  }
}

}  // namespace

GatewayError failure(int status, std::string message) {
  // Portkey's members exactly as Portkey sends them (status, message; clients and tests read
  // them), and OpenAI's error object, which is what OpenAI-style SDKs read (error.message).
  auto [type, code] = typeAndCode(status);
  json error = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}};
  return GatewayError{
      status,
      json{{"status", "failure"}, {"message", std::move(message)}, {"error", std::move(error)}},
      false};
}

GatewayError missingProvider() {
  return failure(400, "Either x-portkey-config or x-portkey-provider header is required");
}

GatewayError virtualKeyRequired() {
  return failure(401,
                 "This gateway requires a virtual key: pass it with x-portkey-virtual-key or "
                 "virtual_key in the config");
}

GatewayError invalidProvider() { return failure(400, "Invalid provider passed"); }

GatewayError configNotJson() {
  return failure(400, "Invalid config passed. You need to pass a valid json");
}

GatewayError invalidConfig(std::vector<std::string> problems) {
  GatewayError error = failure(400, "Invalid config passed");
  error.body["errors"] = std::move(problems);
  return error;
}

GatewayError invalidCustomHost() { return failure(400, "Invalid custom host"); }

GatewayError invalidContentType() { return failure(400, "Invalid content type passed"); }

GatewayError invalidJsonBody(std::string_view detail) {
  return GatewayError{400,
                      json{{"error",
                            {{"message", "Invalid JSON in request body: " + std::string(detail)},
                             {"type", "invalid_request_error"},
                             {"param", nullptr},
                             {"code", "invalid_json"}}}},
                      false};
}

GatewayError notFound() {
  return GatewayError{404, json{{"message", "Not Found"}, {"ok", false}}, false};
}

GatewayError payloadTooLarge() {
  return GatewayError{413,
                      json{{"error",
                            {{"message", "Request headers or body exceed the gateway's limit"},
                             {"type", "invalid_request_error"},
                             {"param", nullptr},
                             {"code", "payload_too_large"}}}},
                      false};
}

GatewayError unsupportedEndpoint(std::string_view fn, std::string_view provider) {
  GatewayError error =
      failure(500, std::string(fn) + " is not supported by " + std::string(provider));
  error.gateway_exception = true;
  return error;
}

GatewayError requestTimeout(long long timeout_ms) {
  return GatewayError{408,
                      json{{"error",
                            {{"message", "Request exceeded the timeout sent in the request: " +
                                             std::to_string(timeout_ms) + "ms"},
                             {"type", "timeout_error"},
                             {"param", nullptr},
                             {"code", nullptr}}}},
                      false};
}

GatewayError upstreamUnreachable(std::string_view provider, std::string_view detail) {
  return providerError(502, provider, "could not reach the provider: " + std::string(detail),
                       "upstream_unreachable", nullptr, "upstream_unreachable");
}

GatewayError upstreamTimeout(std::string_view provider) {
  return providerError(504, provider, "the provider sent no response in time", "upstream_timeout",
                       nullptr, "upstream_timeout");
}

GatewayError providerError(int status,
                           std::string_view provider,
                           std::string_view message,
                           json type,
                           json param,
                           json code) {
  return GatewayError{status,
                      json{{"error",
                            {{"message", std::string(provider) + " error: " + std::string(message)},
                             {"type", std::move(type)},
                             {"param", std::move(param)},
                             // OpenAI's code is a string; some providers send a number.
                             {"code", code.is_number() ? json(code.dump()) : std::move(code)}}},
                           {"provider", provider}},
                      false};
}

GatewayError missingApiKey(std::string_view provider) {
  return providerError(401, provider,
                       "no API key given: send x-portkey-api-key, Authorization: Bearer, or "
                       "api_key in x-portkey-config",
                       "authentication_error", nullptr, "missing_api_key");
}

GatewayError shuttingDown() { return failure(503, "The gateway is shutting down"); }

}  // namespace portico::errors
