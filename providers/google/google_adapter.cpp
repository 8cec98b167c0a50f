#include "google/google_adapter.hpp"
#include "common/stateless_call.hpp"

#include "common/request_helpers.hpp"
#include "portico/openai_wire.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers {

using nlohmann::json;

Expected<ProviderCallPtr> GoogleAdapter::open(const ClientRequest& request,
                                         const Target& target) const {
  return openStateless(*this, request, target);
}

bool GoogleAdapter::supports(Endpoint endpoint) const {
  return endpoint == Endpoint::kChatCompletions || endpoint == Endpoint::kEmbeddings ||
         endpoint == Endpoint::kPassthrough;
}

Expected<UpstreamRequest> GoogleAdapter::buildRequest(const ClientRequest& request,
                                                      const Target& target) const {
  if (target.api_key.empty()) {
    return errors::missingApiKey(id());
  }
  if (request.endpoint == Endpoint::kPassthrough) {
    auto out = requestTo(kGoogleBaseUrl, request.path, request, target, true);
    if (!out) {
      return out;
    }
    copyPassthroughHeaders(request, out->headers);
    setHeader(out->headers, "x-goog-api-key", target.api_key);
    copyForwardedHeaders(request, target, out->headers);
    out->body = bodyBytes(request);
    return out;
  }
  if (request.body == nullptr || !request.body->is_object()) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  std::string model = gemini::requestModel(request);
  if (model.empty()) {
    return errors::failure(400, "Model is required");
  }
  std::string path = "/v1beta/models/" + gemini::modelPathSegment(model);
  json body;
  if (request.endpoint == Endpoint::kChatCompletions) {
    auto mapped = gemini::chatRequestBody(*request.body);
    if (!mapped) {
      return mapped.error();
    }
    body = std::move(*mapped);
    path += request.stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  } else if (request.endpoint == Endpoint::kEmbeddings) {
    auto mapped = gemini::embedRequestBody(*request.body, gemini::modelPathSegment(model));
    if (!mapped) {
      return mapped.error();
    }
    body = std::move(mapped->body);
    path += mapped->batch ? ":batchEmbedContents" : ":embedContent";
  } else {
    return errors::unsupportedEndpoint(endpointName(request.endpoint), id());
  }
  auto out = requestTo(kGoogleBaseUrl, path, request, target, false);
  if (!out) {
    return out;
  }
  out->method = "POST";
  out->headers.emplace_back("content-type", "application/json");
  out->headers.emplace_back("x-goog-api-key", target.api_key);
  copyForwardedHeaders(request, target, out->headers);
  out->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

MappedResponse GoogleAdapter::mapResponse(const ClientRequest& request,
                                          const Target& /*target*/,
                                          UpstreamReply reply) const {
  if (reply.status < 200 || reply.status >= 300) {
    return gemini::errorResponse(id(), reply);
  }
  switch (request.endpoint) {
    case Endpoint::kChatCompletions:
      return gemini::chatResponse({.provider = id(),
                                   .request_model = gemini::requestModel(request),
                                   .created = openai::unixSeconds(request.now)},
                                  reply.body);
    case Endpoint::kEmbeddings: {
      json parsed = parseJson(reply.body);
      json vectors = gemini::embeddingVectors(parsed);
      if (vectors.is_null()) {
        return fromError(errors::providerError(
            502, id(), "Invalid response received from google: " + reply.body.substr(0, 1024)));
      }
      json list = gemini::embeddingList(vectors, gemini::requestModel(request), 0,
                                        gemini::wantsBase64(request.body));
      return MappedResponse{200, "application/json", list.dump()};
    }
    default:
      return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
  }
}

std::unique_ptr<StreamTransformer> GoogleAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& /*target*/) const {
  if (request.endpoint != Endpoint::kChatCompletions) {
    return nullptr;
  }
  return gemini::makeStreamTransformer(std::string(id()), gemini::requestModel(request),
                                       openai::unixSeconds(request.now),
                                       gemini::wantsStreamUsage(request.body));
}

}  // namespace portico::providers
