#include "anthropic/anthropic_adapter.hpp"

#include "common/request_helpers.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

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

// The client's header `name` when the setting is empty.
std::string settingOrHeader(const std::string& setting,
                            const ClientRequest& request,
                            std::string_view name) {
  if (!setting.empty() || request.headers == nullptr) {
    return setting;
  }
  return std::string(findHeader(*request.headers, name).value_or(""));
}

MappedResponse invalidResponse(std::string_view provider, std::string_view body) {
  std::string quoted(body.substr(0, kMaxQuotedBody));
  return fromError(errors::providerError(
      502, provider, "Invalid response received from " + std::string(provider) + ": " + quoted));
}

// The OpenAI message for a Messages answer's content blocks.
json chatMessage(const json& content, bool strict) {
  std::string text;
  bool has_text = false;
  json tool_calls = json::array();
  json other_blocks = json::array();
  for (const auto& block : content) {
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
  json message = {{"role", "assistant"}};
  if (has_text) {
    message["content"] = std::move(text);
  } else {
    message["content"] = tool_calls.empty() ? json("") : json(nullptr);
  }
  if (!tool_calls.empty()) {
    message["tool_calls"] = std::move(tool_calls);
  }
  if (!strict && !other_blocks.empty()) {
    message["content_blocks"] = std::move(other_blocks);
  }
  return message;
}

// One client request on the anthropic provider.
class AnthropicCall final : public ProviderCall {
 public:
  AnthropicCall(const ClientRequest& request, const Target& target)
      : request_(request),
        target_(target),
        settings_(AnthropicSettings::read(target)),
        chat_(request.endpoint == Endpoint::kChatCompletions) {}

  Expected<UpstreamRequest> request() override {
    const bool passthrough = request_.endpoint == Endpoint::kPassthrough;
    const std::string path = passthrough ? passthroughPath(request_) : std::string("/messages");
    // The Anthropic SDK's beta calls add ?beta=true to /v1/messages, so keep queries there too.
    auto out = requestTo(kAnthropicBaseUrl, path, request_, target_, !chat_);
    if (!out) {
      return out;
    }
    if (target_.api_key.empty()) {
      return errors::missingApiKey(kProvider);
    }
    addHeaders(out->headers, passthrough);
    if (!chat_) {
      out->body = bodyBytes(request_);  // Anthropic's own format: the client's bytes, unchanged
      return out;
    }
    if (request_.body == nullptr) {
      return errors::failure(400, "The request body must be a JSON object");
    }
    auto body = anthropicChatBody(*request_.body, settings_);
    if (!body) {
      return body.error();
    }
    out->body = body->dump(-1, ' ', false, json::error_handler_t::replace);
    return out;
  }

  MappedResponse mapResponse(UpstreamReply reply) override {
    if (!chat_) {
      // /v1/messages and passthrough clients speak Anthropic: answers and errors go back as sent.
      std::optional<Usage> usage =
          request_.endpoint == Endpoint::kMessages ? anthropicMessagesUsage(reply) : std::nullopt;
      return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body),
                            std::move(usage)};
    }
    return anthropicChatResponse(request_, target_, std::move(reply));
  }

  std::unique_ptr<StreamTransformer> streamTransformer() override {
    if (request_.endpoint == Endpoint::kMessages) {
      return makeAnthropicMessagesStream();  // Anthropic's SSE, as it came, its usage read
    }
    if (!chat_) {
      return nullptr;  // passthrough: relayed as it comes
    }
    return makeAnthropicChatStream(request_, target_);
  }

 private:
  void addHeaders(HeaderList& headers, bool passthrough) const {
    if (!passthrough) {
      headers.emplace_back("content-type", "application/json");
    }
    headers.emplace_back("x-api-key", target_.api_key);
    std::string version = settingOrHeader(settings_.version, request_, "anthropic-version");
    headers.emplace_back("anthropic-version",
                         version.empty() ? std::string(kDefaultAnthropicVersion) : version);
    if (std::string beta = settingOrHeader(settings_.beta, request_, "anthropic-beta");
        !beta.empty()) {
      headers.emplace_back("anthropic-beta", std::move(beta));
    }
    copyForwardedHeaders(request_, target_, headers);
    if (passthrough) {
      copyPassthroughHeaders(request_, headers);  // keeps the headers set above
    }
  }

  const ClientRequest& request_;
  const Target& target_;
  const AnthropicSettings settings_;
  const bool chat_;
};

}  // namespace

Expected<ProviderCallPtr> AnthropicAdapter::open(const ClientRequest& request,
                                                 const Target& target) const {
  return ProviderCallPtr(std::make_unique<AnthropicCall>(request, target));
}

bool AnthropicAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kMessages:
    case Endpoint::kPassthrough:
      return true;
    case Endpoint::kCompletions:  // Anthropic's legacy /complete is retired
    case Endpoint::kEmbeddings:   // Anthropic has no embeddings API
    case Endpoint::kResponses:    // served through chat completions by the gateway
      return false;
  }
  return false;
}

json anthropicFinishReason(const json& stop_reason, bool strict) {
  if (!stop_reason.is_string()) {
    return nullptr;
  }
  if (!strict) {
    return stop_reason;
  }
  return anthropicOpenAiFinishReason(stop_reason.get_ref<const std::string&>());
}

std::string_view anthropicOpenAiFinishReason(std::string_view reason) {
  if (reason == "max_tokens" || reason == "model_context_window_exceeded") return "length";
  if (reason == "tool_use") return "tool_calls";
  if (reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn and anything new
}

Usage anthropicCounts(std::int64_t input,
                      std::int64_t output,
                      std::int64_t cache_read,
                      std::int64_t cache_creation) {
  Usage out;
  out.prompt_tokens = input + cache_read + cache_creation;
  out.completion_tokens = output;
  out.cached_tokens = cache_read;
  return out;
}

Usage anthropicUsageCounts(const json& usage) {
  const json& u = usage.is_object() ? usage : json::object();
  return anthropicCounts(tokens(u, "input_tokens"), tokens(u, "output_tokens"),
                         tokens(u, "cache_read_input_tokens"),
                         tokens(u, "cache_creation_input_tokens"));
}

json anthropicUsage(const json& usage) {
  const json& u = usage.is_object() ? usage : json::object();
  const std::int64_t cache_read = tokens(u, "cache_read_input_tokens");
  const std::int64_t cache_creation = tokens(u, "cache_creation_input_tokens");
  const Usage counts = anthropicCounts(tokens(u, "input_tokens"), tokens(u, "output_tokens"),
                                       cache_read, cache_creation);
  const std::int64_t prompt = *counts.prompt_tokens;
  const std::int64_t completion = *counts.completion_tokens;
  json out = {{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cache_read}}}};
  if (cache_read != 0) out["cache_read_input_tokens"] = cache_read;
  if (cache_creation != 0) out["cache_creation_input_tokens"] = cache_creation;
  return out;
}

MappedResponse anthropicChatResponse(const ClientRequest& request,
                                     const Target& target,
                                     UpstreamReply reply,
                                     std::string_view provider) {
  if (auto answer = anthropicTextChatResponse(request, target, reply, provider)) {
    return std::move(*answer);
  }
  return anthropicTreeChatResponse(request, target, std::move(reply), provider);
}

MappedResponse anthropicTreeChatResponse(const ClientRequest& request,
                                         const Target& target,
                                         UpstreamReply reply,
                                         std::string_view provider) {
  if (reply.status < 200 || reply.status >= 300) {
    return normaliseError(provider, reply);
  }
  json message = parseJson(reply.body);
  if (!message.is_object()) {
    return invalidResponse(provider, reply.body);
  }
  if (message.value("type", "") == "error") {
    reply.status = 502;  // an error inside a 2xx: never hand it out as a success
    return normaliseError(provider, reply);
  }
  const json& content = member(message, "content");
  if (!content.is_array()) {
    return invalidResponse(provider, reply.body);
  }
  std::string model = message.value("model", "");
  if (model.empty()) {
    model = openai::stringField(request.body, "model");
  }
  const bool strict = target.strict_open_ai_compliance;
  json out = openai::chatCompletion(message.value("id", ""), model,
                                    openai::unixSeconds(request.now), provider);
  out["choices"].push_back(
      {{"index", 0},
       {"message", chatMessage(content, strict)},
       {"logprobs", nullptr},
       {"finish_reason", anthropicFinishReason(member(message, "stop_reason"), strict)}});
  const json& usage = member(message, "usage");
  out["usage"] = anthropicUsage(usage);
  return MappedResponse{reply.status, "application/json",
                        out.dump(-1, ' ', false, json::error_handler_t::replace),
                        anthropicUsageCounts(usage)};
}

std::optional<Usage> anthropicMessagesUsage(const UpstreamReply& reply) {
  if (reply.status < 200 || reply.status >= 300) {
    return std::nullopt;
  }
  json message = parseJson(reply.body);
  const json& usage = message.is_object() ? member(message, "usage") : json();
  if (!usage.is_object()) {
    return std::nullopt;
  }
  return anthropicUsageCounts(usage);
}

std::string anthropicErrorJson(std::string_view type, std::string_view message) {
  // In Anthropic's member order, as its SDKs and logs show it.
  nlohmann::ordered_json error = {
      {"type", "error"},
      {"error", {{"type", std::string(type)}, {"message", std::string(message)}}}};
  return error.dump(-1, ' ', false, json::error_handler_t::replace);
}

MappedResponse anthropicErrorResponse(int status, std::string_view message) {
  return MappedResponse{status, "application/json",
                        anthropicErrorJson(anthropicErrorType(status), message)};
}

}  // namespace portico::providers
