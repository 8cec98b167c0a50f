#include "anthropic/anthropic_adapter.hpp"
#include "common/stateless_call.hpp"

#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

namespace {

using nlohmann::json;

constexpr std::string_view kProvider = "anthropic";
constexpr std::size_t kMaxQuotedBody = 2048;

std::int64_t tokens(const json& usage, const char* key) {
  auto it = usage.find(key);
  return it != usage.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string passthroughPath(const ClientRequest& request) {
  // Anthropic SDKs pointed at ".../v1" ask for /v1/v1/...: collapse it, as Portkey does.
  std::string_view path = request.path;
  if (path.starts_with("/v1/")) {
    path.remove_prefix(3);
  }
  return std::string(path);
}

MappedResponse invalidResponse(std::string_view body) {
  std::string quoted(body.substr(0, kMaxQuotedBody));
  return fromError(
      errors::providerError(502, kProvider, "Invalid response received from anthropic: " + quoted));
}

}  // namespace

Expected<ProviderCallPtr> AnthropicAdapter::open(const ClientRequest& request,
                                         const Target& target) const {
  return openStateless(*this, request, target);
}

bool AnthropicAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kMessages:
    case Endpoint::kPassthrough:
      return true;
    case Endpoint::kCompletions:  // Anthropic's legacy /complete is retired
    case Endpoint::kEmbeddings:   // Anthropic has no embeddings API
      return false;
  }
  return false;
}

Expected<UpstreamRequest> AnthropicAdapter::buildRequest(const ClientRequest& request,
                                                         const Target& target) const {
  const bool chat = request.endpoint == Endpoint::kChatCompletions;
  const bool passthrough = request.endpoint == Endpoint::kPassthrough;
  const std::string path = chat || request.endpoint == Endpoint::kMessages
                               ? std::string("/messages")
                               : passthroughPath(request);
  // The Anthropic SDK's beta calls add ?beta=true to /v1/messages, so keep queries there too.
  auto out = requestTo(kAnthropicBaseUrl, path, request, target, !chat);
  if (!out) {
    return out;
  }
  if (target.api_key.empty()) {
    return errors::missingApiKey(kProvider);
  }
  if (!passthrough) {
    out->headers.emplace_back("content-type", "application/json");
  }
  out->headers.emplace_back("x-api-key", target.api_key);
  std::string version = optionOrHeader(request, target, "anthropic_version", "anthropic-version");
  out->headers.emplace_back("anthropic-version",
                            version.empty() ? std::string(kDefaultAnthropicVersion) : version);
  if (std::string beta = optionOrHeader(request, target, "anthropic_beta", "anthropic-beta");
      !beta.empty()) {
    out->headers.emplace_back("anthropic-beta", std::move(beta));
  }
  copyForwardedHeaders(request, target, out->headers);
  if (passthrough) {
    copyPassthroughHeaders(request, out->headers);  // keeps the headers set above
  }

  if (!chat) {
    out->body = bodyBytes(request);  // Anthropic's own format: the client's bytes, unchanged
    return out;
  }
  if (request.body == nullptr) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  auto body = anthropicChatBody(*request.body, target);
  if (!body) {
    return body.error();
  }
  out->body = body->dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

json anthropicFinishReason(const json& stop_reason, bool strict) {
  if (!stop_reason.is_string()) {
    return nullptr;
  }
  if (!strict) {
    return stop_reason;
  }
  const auto& reason = stop_reason.get_ref<const std::string&>();
  if (reason == "max_tokens" || reason == "model_context_window_exceeded") return "length";
  if (reason == "tool_use") return "tool_calls";
  if (reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn and anything new
}

json anthropicUsage(const json& usage) {
  const json& u = usage.is_object() ? usage : json::object();
  const std::int64_t cache_read = tokens(u, "cache_read_input_tokens");
  const std::int64_t cache_creation = tokens(u, "cache_creation_input_tokens");
  const std::int64_t prompt = tokens(u, "input_tokens") + cache_read + cache_creation;
  const std::int64_t completion = tokens(u, "output_tokens");
  json out = {{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cache_read}}}};
  if (cache_read != 0) out["cache_read_input_tokens"] = cache_read;
  if (cache_creation != 0) out["cache_creation_input_tokens"] = cache_creation;
  return out;
}

MappedResponse AnthropicAdapter::mapResponse(const ClientRequest& request,
                                             const Target& target,
                                             UpstreamReply reply) const {
  if (request.endpoint != Endpoint::kChatCompletions) {
    // /v1/messages and passthrough clients speak Anthropic: answers and errors go back as sent.
    return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
  }
  if (reply.status < 200 || reply.status >= 300) {
    return normaliseError(kProvider, reply);
  }
  json message = parseJson(reply.body);
  if (!message.is_object()) {
    return invalidResponse(reply.body);
  }
  if (message.value("type", "") == "error") {
    reply.status = 502;  // an error inside a 2xx: never hand it out as a success
    return normaliseError(kProvider, reply);
  }
  auto content = message.find("content");
  if (content == message.end() || !content->is_array()) {
    return invalidResponse(reply.body);
  }

  std::string text;
  bool has_text = false;
  json tool_calls = json::array();
  json other_blocks = json::array();
  for (const auto& block : *content) {
    if (!block.is_object()) {
      continue;
    }
    const std::string type = block.value("type", "");
    if (type == "text" && block.contains("text") && block["text"].is_string()) {
      text += block["text"].get<std::string>();
      has_text = true;
      other_blocks.push_back(block);
    } else if (type == "tool_use") {
      const json input = block.contains("input") ? block["input"] : json::object();
      tool_calls.push_back(
          {{"id", block.value("id", "")},
           {"type", "function"},
           {"function",
            {{"name", block.value("name", "")},
             {"arguments", input.dump(-1, ' ', false, json::error_handler_t::replace)}}}});
    } else {
      other_blocks.push_back(block);  // thinking, redacted_thinking, server tool blocks
    }
  }

  json out_message = {{"role", "assistant"}};
  if (has_text) {
    out_message["content"] = std::move(text);
  } else {
    out_message["content"] = tool_calls.empty() ? json("") : json(nullptr);
  }
  if (!tool_calls.empty()) {
    out_message["tool_calls"] = std::move(tool_calls);
  }
  if (!target.strict_open_ai_compliance && !other_blocks.empty()) {
    out_message["content_blocks"] = std::move(other_blocks);
  }

  std::string model = message.value("model", "");
  if (model.empty() && request.body != nullptr) {
    model = request.body->value("model", "");
  }
  json out = {{"id", message.value("id", "")},
              {"object", "chat.completion"},
              {"created", openai::unixSeconds(request.now)},
              {"model", model},
              {"provider", kProvider},
              {"choices",
               json::array({{{"index", 0},
                             {"message", std::move(out_message)},
                             {"logprobs", nullptr},
                             {"finish_reason",
                              anthropicFinishReason(
                                  message.contains("stop_reason") ? message["stop_reason"] : json(),
                                  target.strict_open_ai_compliance)}}})},
              {"usage", anthropicUsage(message.contains("usage") ? message["usage"] : json())}};
  return MappedResponse{reply.status, "application/json",
                        out.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::unique_ptr<StreamTransformer> AnthropicAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& target) const {
  if (request.endpoint != Endpoint::kChatCompletions) {
    return nullptr;  // Anthropic SSE relayed raw to Anthropic-format clients
  }
  return makeAnthropicChatStream(request, target);
}

}  // namespace portico::providers
