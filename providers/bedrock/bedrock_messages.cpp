// Anthropic's Messages API (/v1/messages) on Claude models through Bedrock's InvokeModel: the
// client's body goes as Anthropic wrote it (thinking signatures, cache_control, betas), the
// answer comes back as Anthropic's message, and the binary event-stream of
// invoke-with-response-stream becomes Anthropic's own SSE.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anthropic/anthropic_adapter.hpp"
#include "bedrock/bedrock_adapter.hpp"
#include "bedrock/bedrock_detail.hpp"
#include "portico/aws_eventstream_parser.hpp"
#include "portico/encoding.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers::bedrock {

using nlohmann::json;

namespace {

using detail::clipped;
using detail::stringField;

// The version Bedrock requires in every Claude InvokeModel body.
constexpr std::string_view kBedrockAnthropicVersion = "bedrock-2023-05-31";
// Bedrock adds this member to the last stream event; it is not part of Anthropic's format.
constexpr const char* kInvocationMetrics = "amazon-bedrock-invocationMetrics";

std::string serialise(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// AWS's error message: {"message":...} (or "Message"), else the body itself.
std::string awsMessage(std::string_view body, int status) {
  json parsed = parseJson(body);
  std::string message;
  if (parsed.is_object()) {
    message = stringField(parsed, "message");
    if (message.empty()) message = stringField(parsed, "Message");
  }
  if (message.empty()) message = clipped(body);
  if (message.empty()) message = "empty response with status " + std::to_string(status);
  return message;
}

// Anthropic's event names are snake_case words; anything else (a newline, say) could forge SSE.
bool isEventName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// A stream exception's type (Bedrock's names, lower camel case) -> Anthropic's error type.
std::string_view exceptionType(std::string_view aws_type) {
  if (aws_type == "throttlingException") return "rate_limit_error";
  if (aws_type == "validationException") return "invalid_request_error";
  if (aws_type == "serviceUnavailableException") return "overloaded_error";
  return "api_error";  // internalServerException, modelStreamErrorException, modelTimeout...
}

class BedrockMessagesStream final : public StreamTransformer {
 public:
  void feed(std::string_view bytes, std::string& out) override {
    if (ended_) return;
    messages_.clear();
    const auto status = parser_.feed(bytes, messages_);
    // Messages decoded before a corrupt frame are still good.
    for (const auto& message : messages_) {
      if (ended_) return;
      handle(message, out);
    }
    if (status == stream::AwsEventStreamParser::Status::kError && !ended_) {
      fail("api_error", "invalid event stream from bedrock: " + parser_.errorMessage(), out);
    }
  }

  void finish(bool complete, std::string& out) override {
    if (ended_) return;
    if (!complete) {
      fail("api_error", "the upstream connection broke mid-stream", out);
    } else if (parser_.buffered() > 0) {
      fail("api_error", "the upstream stream ended inside an event-stream frame", out);
    } else if (!stopped_) {
      fail("api_error", "the upstream stream ended before message_stop", out);
    }
    ended_ = true;
  }

  std::optional<Usage> usage() const override { return usage_; }

 private:
  void handle(const stream::EventStreamMessage& message, std::string& out) {
    const std::string kind = message.header(":message-type");
    if (kind == "exception") {
      const std::string type = message.header(":exception-type");
      fail(exceptionType(type), awsMessage(message.payload, 500), out);
    } else if (kind == "error") {
      std::string text = message.header(":error-message");
      fail("api_error", text.empty() ? message.header(":error-code") : text, out);
    } else if (kind == "event" && message.header(":event-type") == "chunk") {
      onChunk(message.payload, out);
    }
    // Other message and event types carry nothing for the client.
  }

  // {"bytes":"<base64 of one Anthropic stream event>"} -> "event: <type>\ndata: <event>\n\n".
  void onChunk(std::string_view payload, std::string& out) {
    const json chunk = parseJson(payload);
    const std::string encoded = chunk.is_object() ? stringField(chunk, "bytes") : "";
    std::optional<std::string> decoded = base64Decode(encoded);
    json event = decoded ? parseJson(*decoded) : json(json::value_t::discarded);
    if (!event.is_object()) {
      fail("api_error", "malformed chunk from bedrock: " + clipped(payload), out);
      return;
    }
    const std::string type = stringField(event, "type");
    if (!isEventName(type)) return;  // not an Anthropic event: not passed on
    if (type == "message_start" || type == "message_delta") {
      readUsage(type == "message_start" ? member(event, "message") : event);
    }
    if (event.erase(kInvocationMetrics) > 0) {
      openai::appendSseEvent(type, serialise(event), out);
    } else {
      openai::appendSseEvent(type, *decoded, out);  // Anthropic's bytes, unchanged
    }
    if (type == "message_stop") {
      stopped_ = true;
    } else if (type == "error") {
      ended_ = true;  // Anthropic's own error event ends the stream
    }
  }

  void readUsage(const json& holder) {
    const json& usage = member(holder, "usage");
    if (!usage.is_object()) return;
    for (const auto& [key, value] : usage.items()) {
      if (value.is_number_integer()) raw_usage_[key] = value;  // message_delta's counts win
    }
    usage_ = anthropicUsageCounts(raw_usage_);
  }

  void fail(std::string_view type, std::string_view message, std::string& out) {
    openai::appendSseEvent("error", anthropicErrorJson(type, message), out);
    ended_ = true;
  }

  stream::AwsEventStreamParser parser_;
  std::vector<stream::EventStreamMessage> messages_;
  json raw_usage_ = json::object();
  std::optional<Usage> usage_;
  bool stopped_ = false;  // message_stop seen: the answer is whole
  bool ended_ = false;
};

}  // namespace

bool isClaudeModel(std::string_view model) {
  const std::string lower = asciiLower(model);
  if (lower.starts_with("arn:")) {
    return lower.find("anthropic") != std::string::npos;
  }
  return modelFamily(model) == ModelFamily::kAnthropic;
}

std::string_view messagesAction(bool stream) {
  return stream ? "invoke-with-response-stream" : "invoke";
}

json toMessagesBody(const json& body, std::string_view beta) {
  json out = body.is_object() ? body : json::object();
  out.erase("model");
  out.erase("stream");
  out["anthropic_version"] = kBedrockAnthropicVersion;
  if (json list = detail::commaList(beta); !list.empty()) {
    out["anthropic_beta"] = std::move(list);
  }
  return out;
}

MappedResponse mapMessagesResponse(UpstreamReply reply) {
  if (reply.status < 200 || reply.status >= 300) {
    return anthropicErrorResponse(reply.status, awsMessage(reply.body, reply.status));
  }
  if (!parseJson(reply.body).is_object()) {
    return anthropicErrorResponse(502,
                                  "Invalid response received from bedrock: " + clipped(reply.body));
  }
  std::optional<Usage> usage = anthropicMessagesUsage(reply);
  return MappedResponse{reply.status, "application/json", std::move(reply.body), std::move(usage)};
}

std::unique_ptr<StreamTransformer> makeMessagesStream() {
  return std::make_unique<BedrockMessagesStream>();
}

}  // namespace portico::providers::bedrock
