#include "openai_compatible/openai_compatible_adapter.hpp"

#include "common/request_helpers.hpp"
#include "openai_compatible/usage_relay_stream.hpp"
#include "openai_compatible/x_groq_usage_stream.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

namespace {

bool isSuccess(int status) { return status >= 200 && status < 300; }

// Whether a stream of this request should ask the upstream for usage the client did not ask
// for: OpenAI's usage chunk exists for chat and text completions, and stream_options must be
// absent or an object (anything else is the client's to get refused).
bool shouldAskStreamUsage(const OpenAiCompatibleSpec& spec, const ClientRequest& request) {
  if (!spec.asks_stream_usage || !request.stream || request.body == nullptr ||
      !request.body->is_object() || openai::wantsIncludeUsage(request.body)) {
    return false;
  }
  if (request.endpoint != Endpoint::kChatCompletions &&
      request.endpoint != Endpoint::kCompletions) {
    return false;
  }
  auto options = request.body->find("stream_options");
  return options == request.body->end() || options->is_object();
}

// The client's bytes with `"stream_options":{"include_usage":true}` as the object's first
// member, when the body has no stream_options (the client's other bytes go up unchanged and no
// tree is serialised); nullopt when it may have one, to be merged into: the name appears, or
// an escape could spell it.
std::optional<std::string> withStreamUsageOption(std::string_view raw_body) {
  constexpr std::string_view kOption = "\"stream_options\":{\"include_usage\":true}";
  const std::size_t open = raw_body.find('{');
  if (open == std::string_view::npos ||
      raw_body.find("\"stream_options\"") != std::string_view::npos ||
      raw_body.find("\\u") != std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t next = raw_body.find_first_not_of(" \t\r\n", open + 1);
  const bool empty = next == std::string_view::npos || raw_body[next] == '}';
  std::string out;
  out.reserve(raw_body.size() + kOption.size() + 1);
  out.append(raw_body, 0, open + 1).append(kOption);
  if (!empty) {
    out += ',';
  }
  out.append(raw_body, open + 1);
  return out;
}

}  // namespace

OpenAiHeaderSettings OpenAiHeaderSettings::read(const ClientRequest& request,
                                                const Target& target) {
  return {optionOrHeader(request, target, "openai_organization", "openai-organization"),
          optionOrHeader(request, target, "openai_project", "openai-project"),
          optionOrHeader(request, target, "openai_beta", "openai-beta")};
}

OpenAiCompatibleCall::OpenAiCompatibleCall(const OpenAiCompatibleSpec& spec,
                                           const ClientRequest& request,
                                           const Target& target)
    : spec_(spec),
      request_(request),
      target_(target),
      passthrough_(request.endpoint == Endpoint::kPassthrough),
      asks_stream_usage_(shouldAskStreamUsage(spec, request)) {}

std::string_view OpenAiCompatibleCall::baseUrl() const {
  return target_.custom_host.empty() ? spec_.base_url : std::string_view(target_.custom_host);
}

std::string OpenAiCompatibleCall::path() const {
  std::string path(spec_.api_prefix);
  switch (request_.endpoint) {
    case Endpoint::kChatCompletions:
      return path + "/chat/completions";
    case Endpoint::kCompletions:
      return path + "/completions";
    case Endpoint::kEmbeddings:
      return path + "/embeddings";
    case Endpoint::kResponses:
      return path + "/responses";
    case Endpoint::kMessages:
    case Endpoint::kPassthrough:
      break;
  }
  return path + request_.path;
}

std::string OpenAiCompatibleCall::query() const {
  return passthrough_ ? request_.query : std::string();
}

Expected<bool> OpenAiCompatibleCall::addAuth(HeaderList& headers) const {
  const std::string& key = target_.api_key;
  switch (spec_.auth) {
    case AuthStyle::kBearer:
      if (key.empty()) {
        return errors::missingApiKey(spec_.id);
      }
      headers.emplace_back("authorization", "Bearer " + key);
      break;
    case AuthStyle::kBearerOptional:
      if (!key.empty()) {
        headers.emplace_back("authorization", "Bearer " + key);
      }
      break;
    case AuthStyle::kApiKeyHeader:
      if (key.empty()) {
        return errors::missingApiKey(spec_.id);
      }
      headers.emplace_back("api-key", key);
      break;
    case AuthStyle::kNone:
      break;
  }
  return true;
}

void OpenAiCompatibleCall::addProviderHeaders(HeaderList& headers) const {
  if (!spec_.extra_header_name.empty()) {
    setHeader(headers, spec_.extra_header_name, std::string(spec_.extra_header_value));
  }
  if (!spec_.openai_headers) {
    return;
  }
  OpenAiHeaderSettings settings = OpenAiHeaderSettings::read(request_, target_);
  for (auto [name, value] :
       {std::pair{"openai-organization", &settings.organization},
        std::pair{"openai-project", &settings.project}, std::pair{"openai-beta", &settings.beta}}) {
    if (!value->empty()) {
      setHeader(headers, name, std::move(*value));
    }
  }
}

std::string OpenAiCompatibleCall::body() const {
  if (refuses_stream_options_ && !passthrough_ && request_.body != nullptr &&
      request_.body->is_object() && request_.body->contains("stream_options")) {
    nlohmann::json body = *request_.body;
    body.erase("stream_options");
    if (spec_.quirk != nullptr) {
      spec_.quirk(body, request_);
    }
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (passthrough_ || request_.body == nullptr || (spec_.quirk == nullptr && !asks_stream_usage_)) {
    return bodyBytes(request_);
  }
  if (spec_.quirk == nullptr && !request_.body_modified) {
    if (auto bytes = withStreamUsageOption(request_.raw_body)) {
      return std::move(*bytes);
    }
  }
  nlohmann::json body = *request_.body;
  bool changed = spec_.quirk != nullptr && spec_.quirk(body, request_);
  if (asks_stream_usage_) {
    body["stream_options"]["include_usage"] = true;
    changed = true;
  }
  return changed || request_.body_modified ? body.dump() : std::string(request_.raw_body);
}

Expected<UpstreamRequest> OpenAiCompatibleCall::request() {
  auto out = requestAt(baseUrl(), path(), query(), request_, target_.provider);
  if (!out) {
    return out;
  }
  if (passthrough_) {
    copyPassthroughHeaders(request_, out->headers);
  } else {
    out->headers.emplace_back("content-type", "application/json");
  }
  if (auto auth = addAuth(out->headers); !auth) {
    return auth.error();
  }
  addProviderHeaders(out->headers);
  copyForwardedHeaders(request_, target_, out->headers);
  out->body = body();
  return out;
}

MappedResponse OpenAiCompatibleCall::mapResponse(UpstreamReply reply) {
  if (!isSuccess(reply.status)) {
    return normaliseError(spec_.id, reply);
  }
  // Success bodies are already OpenAI's format: relay the bytes, never re-serialise them; the
  // usage is only scanned for.
  std::optional<Usage> usage = passthrough_ ? std::nullopt : findOpenAiUsage(reply.body);
  return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body),
                        std::move(usage)};
}

std::unique_ptr<StreamTransformer> OpenAiCompatibleCall::streamTransformer() {
  if (spec_.usage_in_x_groq && request_.endpoint == Endpoint::kChatCompletions) {
    return makeXGroqUsageTransformer(std::string(spec_.id),
                                     openai::wantsIncludeUsage(request_.body));
  }
  if (asks_stream_usage_) {
    return makeUsageRelayStream(std::string(spec_.id));
  }
  // OpenAI-format SSE is relayed byte for byte, [DONE] included; when the client asked for
  // include_usage the gateway reads the usage chunk it relays.
  return nullptr;
}

Expected<ProviderCallPtr> OpenAiCompatibleAdapter::open(const ClientRequest& request,
                                                        const Target& target) const {
  return ProviderCallPtr(std::make_unique<OpenAiCompatibleCall>(spec_, request, target));
}

bool OpenAiCompatibleAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
      return (spec_.endpoints & kChat) != 0;
    case Endpoint::kCompletions:
      return (spec_.endpoints & kText) != 0;
    case Endpoint::kEmbeddings:
      return (spec_.endpoints & kEmbed) != 0;
    case Endpoint::kResponses:
      // A passthrough-only provider gets /v1/responses forwarded, as any other path.
      return (spec_.endpoints & kResp) != 0 || spec_.endpoints == kProxyOnly;
    case Endpoint::kMessages:
      return false;
    case Endpoint::kPassthrough:
      return true;
  }
  return false;
}

}  // namespace portico::providers
