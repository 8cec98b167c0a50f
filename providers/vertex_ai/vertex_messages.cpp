// Anthropic's Messages API (/v1/messages) on Claude models through Vertex AI's rawPredict and
// streamRawPredict, which take and answer Anthropic's own format; only the version field, the
// model's place (the URL) and Vertex's error bodies differ.
#include <optional>
#include <string>
#include <utility>

#include "anthropic/anthropic_adapter.hpp"
#include "portico/json_parse.hpp"
#include "vertex_ai/vertex_adapter.hpp"

namespace portico::providers::vertex {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxQuoted = 2048;

std::string clipped(std::string_view body) { return std::string(body.substr(0, kMaxQuoted)); }

// Google's error message: {"error":{"message":...}}, also inside a one-element array.
std::string googleMessage(const json& parsed) {
  const json& holder = parsed.is_array() && !parsed.empty() ? parsed.front() : parsed;
  if (!holder.is_object()) return "";
  auto error = holder.find("error");
  if (error == holder.end()) return "";
  if (error->is_string()) return error->get<std::string>();
  if (!error->is_object()) return "";
  auto message = error->find("message");
  return message != error->end() && message->is_string() ? message->get<std::string>() : "";
}

}  // namespace

json toMessagesBody(const json& body) {
  json out = body.is_object() ? body : json::object();
  out.erase("model");
  out["anthropic_version"] = kAnthropicVertexVersion;
  return out;
}

MappedResponse mapMessagesResponse(UpstreamReply reply) {
  json parsed = parseJson(reply.body);
  if (reply.status < 200 || reply.status >= 300) {
    // Claude's own errors come through Vertex in Anthropic's shape already.
    // Compared as a std::string: gcc 12 -O2 warns -Warray-bounds inside json == "literal".
    const auto type = parsed.find("type");
    if (type != parsed.end() && type->is_string() &&
        type->get_ref<const std::string&>() == "error") {
      return MappedResponse{reply.status, "application/json", std::move(reply.body)};
    }
    std::string message = googleMessage(parsed);
    if (message.empty()) message = clipped(reply.body);
    if (message.empty()) message = "empty response with status " + std::to_string(reply.status);
    return anthropicErrorResponse(reply.status, message);
  }
  if (!parsed.is_object()) {
    return anthropicErrorResponse(
        502, "Invalid response received from vertex-ai: " + clipped(reply.body));
  }
  std::optional<Usage> usage = anthropicMessagesUsage(reply);
  return MappedResponse{reply.status, "application/json", std::move(reply.body), std::move(usage)};
}

}  // namespace portico::providers::vertex
