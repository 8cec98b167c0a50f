#include "openai_compatible/openai_compatible_adapter.hpp"
#include "common/stateless_call.hpp"

#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "openai_compatible/x_groq_usage_stream.hpp"

namespace portico::providers {

Expected<ProviderCallPtr> OpenAiCompatibleAdapter::open(const ClientRequest& request,
                                         const Target& target) const {
  return openStateless(*this, request, target);
}

bool OpenAiCompatibleAdapter::supports(Endpoint endpoint) const {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
      return (spec_.endpoints & kChat) != 0;
    case Endpoint::kCompletions:
      return (spec_.endpoints & kText) != 0;
    case Endpoint::kEmbeddings:
      return (spec_.endpoints & kEmbed) != 0;
    case Endpoint::kMessages:
      return false;
    case Endpoint::kPassthrough:
      return true;
  }
  return false;
}

std::string OpenAiCompatibleAdapter::pathFor(const ClientRequest& request,
                                             const Target& /*target*/) const {
  std::string path(spec_.api_prefix);
  switch (request.endpoint) {
    case Endpoint::kChatCompletions:
      return path + "/chat/completions";
    case Endpoint::kCompletions:
      return path + "/completions";
    case Endpoint::kEmbeddings:
      return path + "/embeddings";
    case Endpoint::kMessages:
    case Endpoint::kPassthrough:
      break;
  }
  return path + request.path;
}

Expected<bool> OpenAiCompatibleAdapter::applyAuth(const ClientRequest& /*request*/,
                                                  const Target& target,
                                                  UpstreamRequest& out) const {
  switch (spec_.auth) {
    case AuthStyle::kBearer:
      if (target.api_key.empty()) {
        return errors::missingApiKey(spec_.id);
      }
      out.headers.emplace_back("authorization", "Bearer " + target.api_key);
      break;
    case AuthStyle::kBearerOptional:
      if (!target.api_key.empty()) {
        out.headers.emplace_back("authorization", "Bearer " + target.api_key);
      }
      break;
    case AuthStyle::kApiKeyHeader:
      if (target.api_key.empty()) {
        return errors::missingApiKey(spec_.id);
      }
      out.headers.emplace_back("api-key", target.api_key);
      break;
    case AuthStyle::kNone:
      break;
  }
  return true;
}

Expected<UpstreamRequest> OpenAiCompatibleAdapter::buildRequest(const ClientRequest& request,
                                                                const Target& target) const {
  const bool passthrough = request.endpoint == Endpoint::kPassthrough;
  auto out = requestTo(spec_.base_url, pathFor(request, target), request, target, passthrough);
  if (!out) {
    return out;
  }
  if (passthrough) {
    copyPassthroughHeaders(request, out->headers);
  } else {
    out->headers.emplace_back("content-type", "application/json");
  }
  if (auto auth = applyAuth(request, target, *out); !auth) {
    return auth.error();
  }
  if (!spec_.extra_header_name.empty()) {
    setHeader(out->headers, spec_.extra_header_name, std::string(spec_.extra_header_value));
  }
  if (spec_.openai_headers) {
    static constexpr std::pair<const char*, const char*> kOpenAiHeaders[] = {
        {"openai_organization", "openai-organization"},
        {"openai_project", "openai-project"},
        {"openai_beta", "openai-beta"},
    };
    for (const auto& [option, header] : kOpenAiHeaders) {
      std::string value = optionOrHeader(request, target, option, header);
      if (!value.empty()) {
        setHeader(out->headers, header, std::move(value));
      }
    }
  }
  copyForwardedHeaders(request, target, out->headers);

  if (spec_.quirk != nullptr && request.body != nullptr && !passthrough) {
    nlohmann::json body = *request.body;
    bool changed = spec_.quirk(body, request);
    out->body = changed || request.body_modified ? body.dump() : std::string(request.raw_body);
  } else {
    out->body = bodyBytes(request);
  }
  return out;
}

MappedResponse OpenAiCompatibleAdapter::mapResponse(const ClientRequest& /*request*/,
                                                    const Target& /*target*/,
                                                    UpstreamReply reply) const {
  if (reply.status >= 200 && reply.status < 300) {
    // Success bodies are already OpenAI's format: relay the bytes, never re-serialise them.
    return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
  }
  return normaliseError(spec_.id, reply);
}

std::unique_ptr<StreamTransformer> OpenAiCompatibleAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& /*target*/) const {
  if (spec_.usage_in_x_groq && request.endpoint == Endpoint::kChatCompletions) {
    return makeXGroqUsageTransformer(std::string(spec_.id), openai::wantsIncludeUsage(request.body));
  }
  return nullptr;  // OpenAI-format SSE is relayed byte for byte, [DONE] included.
}

}  // namespace portico::providers
