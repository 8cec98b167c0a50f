#include "cohere/cohere_adapter.hpp"

#include "cohere/cohere_mapping.hpp"
#include "common/request_helpers.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

namespace {

using nlohmann::json;

// One client request on cohere.
class CohereCall final : public ProviderCall {
 public:
  CohereCall(const ClientRequest& request, const Target& target)
      : request_(request), target_(target), settings_(CohereSettings::read(target)) {}

  Expected<UpstreamRequest> request() override {
    if (target_.api_key.empty()) {
      return errors::missingApiKey(cohere::kId);
    }
    auto out = requestTo(CohereAdapter::kBaseUrl, path(), request_, target_, passthrough());
    if (!out) {
      return out;
    }
    if (passthrough()) {
      copyPassthroughHeaders(request_, out->headers);
      out->body = bodyBytes(request_);
    } else {
      auto body = mappedBody();
      if (!body) {
        return body.error();
      }
      out->body = body->dump(-1, ' ', false, json::error_handler_t::replace);
      setHeader(out->headers, "content-type", "application/json");
      if (request_.stream) {
        setHeader(out->headers, "accept", "text/event-stream");
      }
    }
    setHeader(out->headers, "authorization", "Bearer " + target_.api_key);
    copyForwardedHeaders(request_, target_, out->headers);
    return out;
  }

  MappedResponse mapResponse(UpstreamReply reply) override {
    if (reply.status < 200 || reply.status >= 300) {
      return normaliseError(cohere::kId, reply);
    }
    if (passthrough()) {
      return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
    }
    json parsed = parseJson(reply.body);
    if (!parsed.is_object()) {
      return cohereInvalidResponse(reply.status, reply.body);
    }
    try {
      return request_.endpoint == Endpoint::kEmbeddings
                 ? cohereEmbedResponse(request_, parsed)
                 : cohereChatResponse(request_, target_, parsed);
    } catch (const json::exception&) {
      // A member of an unexpected type (e.g. "message": 3).
      return cohereInvalidResponse(reply.status, reply.body);
    }
  }

  std::unique_ptr<StreamTransformer> streamTransformer() override {
    if (request_.endpoint != Endpoint::kChatCompletions) {
      return nullptr;  // passthrough streams are relayed as they come
    }
    return makeCohereChatStream(request_, target_);
  }

 private:
  bool passthrough() const { return request_.endpoint == Endpoint::kPassthrough; }

  std::string path() const {
    switch (request_.endpoint) {
      case Endpoint::kChatCompletions:
        return "/v2/chat";
      case Endpoint::kEmbeddings:
        return "/v2/embed";
      default:
        return request_.path;
    }
  }

  Expected<json> mappedBody() const {
    if (request_.body == nullptr || !request_.body->is_object()) {
      return cohere::badRequest("the request body must be a JSON object");
    }
    try {
      return request_.endpoint == Endpoint::kChatCompletions
                 ? toCohereChatBody(*request_.body)
                 : toCohereEmbedBody(*request_.body, settings_);
    } catch (const json::exception&) {
      // A field of the wrong type (e.g. "role": 1).
      return cohere::badRequest("the request body has a field of an unexpected type");
    }
  }

  const ClientRequest& request_;
  const Target& target_;
  const CohereSettings settings_;
};

}  // namespace

CohereSettings CohereSettings::read(const Target& target) {
  return CohereSettings{target.option("input_type", "cohere_input_type")};
}

Expected<ProviderCallPtr> CohereAdapter::open(const ClientRequest& request,
                                              const Target& target) const {
  return ProviderCallPtr(std::make_unique<CohereCall>(request, target));
}

bool CohereAdapter::supports(Endpoint endpoint) const {
  return endpoint == Endpoint::kChatCompletions || endpoint == Endpoint::kEmbeddings ||
         endpoint == Endpoint::kPassthrough;
}

}  // namespace portico::providers
