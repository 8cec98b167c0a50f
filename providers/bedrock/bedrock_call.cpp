#include "bedrock/bedrock_call.hpp"

#include <utility>

#include "bedrock/bedrock_detail.hpp"
#include "common/request_helpers.hpp"
#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

using nlohmann::json;

namespace {

using bedrock::detail::badRequest;
using bedrock::detail::kProvider;

constexpr std::string_view kDefaultRegion = "us-east-1";

// Region names become part of the host name, so only [a-z0-9-] may pass.
bool isValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 32) {
    return false;
  }
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

bool isSuccess(int status) { return status >= 200 && status < 300; }

std::string serialise(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The SigV4 input for `out` exactly as it will be sent: its Host header, path, query,
// content-type and body. Forwarded headers are not signed: AWS checks only the headers the
// signature names.
aws::SigningInput signingInput(const UpstreamRequest& out,
                               const std::string& region,
                               std::chrono::system_clock::time_point now) {
  aws::SigningInput in;
  in.method = out.method;
  in.host = hostHeader(out);
  const auto question = out.target.find('?');
  in.path = out.target.substr(0, question);
  if (question != std::string::npos) {
    in.query = out.target.substr(question + 1);
  }
  if (auto content_type = findHeader(out.headers, "content-type")) {
    in.headers.emplace_back("content-type", std::string(*content_type));
  }
  in.payload = out.body;
  in.region = region;
  in.service = "bedrock";
  in.now = now;
  return in;
}

}  // namespace

Expected<BedrockSettings> BedrockSettings::read(const Target& target) {
  BedrockSettings out;
  out.region = target.option("aws_region");
  if (out.region.empty()) {
    out.region = std::string(kDefaultRegion);
  }
  if (!isValidRegion(out.region)) {
    return badRequest("invalid aws_region");
  }
  out.api_key_auth = target.option("aws_auth_type") == "apiKey";
  out.api_key = target.api_key;
  out.credentials = {target.option("aws_access_key_id"), target.option("aws_secret_access_key"),
                     target.option("aws_session_token")};
  out.anthropic_beta = target.option("anthropic_beta");
  // A config may give the betas as an array; Bedrock takes them as one either way.
  if (auto it = target.options.find("anthropic_beta");
      it != target.options.end() && it->is_array()) {
    for (const auto& beta : *it) {
      if (beta.is_string()) {
        out.anthropic_beta += (out.anthropic_beta.empty() ? "" : ",") + beta.get<std::string>();
      }
    }
  }
  return out;
}

namespace bedrock {

std::string newCompletionId() { return openai::newId("chatcmpl-bedrock-"); }

}  // namespace bedrock

BedrockCall::BedrockCall(const ClientRequest& request,
                         const Target& target,
                         BedrockSettings settings)
    : request_(request),
      target_(target),
      settings_(std::move(settings)),
      model_(openai::stringField(request.body, "model")),
      family_(bedrock::modelFamily(model_)),
      stream_(request.stream) {}

Expected<UpstreamRequest> BedrockCall::request() {
  if (request_.endpoint == Endpoint::kPassthrough) {
    return passthroughRequest();
  }
  return modelRequest();
}

Expected<UpstreamRequest> BedrockCall::passthroughRequest() const {
  auto out = requestTo(bedrock::baseUrl(settings_.region), request_.path, request_, target_, true);
  if (!out) return out;
  copyPassthroughHeaders(request_, out->headers);
  out->body = bodyBytes(request_);
  return out;
}

Expected<UpstreamRequest> BedrockCall::modelRequest() const {
  if (request_.body == nullptr || !request_.body->is_object()) {
    return badRequest("the request body must be a JSON object");
  }
  if (model_.empty()) {
    // Portkey answers 500 here; it is the client's mistake, so 400. A gateway exception stops
    // a fallback chain, as in Portkey.
    GatewayError error = errors::failure(400, "Model is required");
    error.gateway_exception = true;
    return error;
  }
  std::string action;
  Expected<json> body = json(nullptr);
  if (request_.endpoint == Endpoint::kEmbeddings) {
    action = "invoke";
    body = bedrock::toEmbedBody(*request_.body, family_, model_);
  } else if (request_.endpoint == Endpoint::kChatCompletions) {
    action = stream_ ? "converse-stream" : "converse";
    body = bedrock::toConverseBody(*request_.body, family_, settings_);
  } else if (request_.endpoint == Endpoint::kMessages) {
    if (!bedrock::isClaudeModel(model_)) {
      // The gateway translates these through Converse (servesNatively); refuse a direct call.
      return badRequest("the Messages API goes natively to Anthropic models only");
    }
    action = bedrock::messagesAction(stream_);
    std::string beta = settings_.anthropic_beta;
    if (beta.empty() && request_.headers != nullptr) {
      beta = std::string(findHeader(*request_.headers, "anthropic-beta").value_or(""));
    }
    body = bedrock::toMessagesBody(*request_.body, beta);
  } else {
    return errors::unsupportedEndpoint(endpointName(request_.endpoint), kProvider);
  }
  if (!body) {
    return body.error();
  }
  auto out = requestTo(bedrock::baseUrl(settings_.region), bedrock::modelPath(model_, action),
                       request_, target_, false);
  if (!out) return out;
  out->method = "POST";
  out->headers.emplace_back("content-type", "application/json");
  out->body = serialise(*body);
  copyForwardedHeaders(request_, target_, out->headers);
  return out;
}

Expected<bool> BedrockCall::authenticate(UpstreamRequest& out) {
  if (settings_.api_key_auth) {
    if (settings_.api_key.empty()) {
      return errors::missingApiKey(kProvider);
    }
    setHeader(out.headers, "authorization", "Bearer " + settings_.api_key);
    return true;
  }
  return sign(out);
}

Expected<bool> BedrockCall::sign(UpstreamRequest& out) const {
  const aws::Credentials& creds = settings_.credentials;
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return errors::providerError(
        401, kProvider,
        "AWS credentials are missing: send x-portkey-aws-access-key-id and "
        "x-portkey-aws-secret-access-key (or aws_access_key_id / aws_secret_access_key in the "
        "config), or aws_auth_type apiKey with a Bedrock API key",
        "authentication_error");
  }
  const aws::SigningInput in = signingInput(out, settings_.region, request_.now);
  for (auto& [name, value] : aws::signRequest(in, creds)) {
    setHeader(out.headers, name, std::move(value));
  }
  return true;
}

MappedResponse BedrockCall::mapResponse(UpstreamReply reply) {
  if (request_.endpoint == Endpoint::kMessages) {
    return bedrock::mapMessagesResponse(std::move(reply));  // Anthropic's answers and errors
  }
  if (!isSuccess(reply.status)) {
    return bedrock::mapError(reply);
  }
  if (request_.endpoint == Endpoint::kPassthrough) {
    return MappedResponse{reply.status, std::move(reply.content_type), std::move(reply.body)};
  }
  json parsed = parseJson(reply.body);
  if (parsed.is_discarded()) {
    return fromError(bedrock::detail::invalidResponse(reply.body));
  }
  return request_.endpoint == Endpoint::kEmbeddings ? mapEmbeddings(parsed) : mapChat(parsed);
}

MappedResponse BedrockCall::mapChat(const json& converse) const {
  auto mapped = bedrock::fromConverseResponse(converse, bedrock::newCompletionId(), model_,
                                              openai::unixSeconds(request_.now),
                                              target_.strict_open_ai_compliance);
  if (!mapped) return fromError(mapped.error());
  MappedResponse out{200, "application/json", serialise(*mapped)};
  out.usage = bedrock::converseUsage(converse);
  return out;
}

MappedResponse BedrockCall::mapEmbeddings(const json& upstream) const {
  auto mapped = bedrock::fromEmbedResponse(upstream, model_);
  if (!mapped) return fromError(mapped.error());
  if (openai::stringField(request_.body, "encoding_format") == "base64") {
    for (auto& item : (*mapped)["data"]) {
      item["embedding"] = openai::base64Floats(item["embedding"]);
    }
  }
  MappedResponse out{200, "application/json", mapped->dump()};
  out.usage = bedrock::embedUsage(upstream);
  return out;
}

std::unique_ptr<StreamTransformer> BedrockCall::streamTransformer() {
  if (request_.endpoint == Endpoint::kMessages) {
    return bedrock::makeMessagesStream();
  }
  if (request_.endpoint != Endpoint::kChatCompletions) {
    return nullptr;
  }
  return bedrock::makeChatStream(request_, target_.strict_open_ai_compliance,
                                 bedrock::newCompletionId());
}

std::vector<json> BedrockCall::splitRequest() {
  if (request_.endpoint != Endpoint::kEmbeddings || request_.body == nullptr) {
    return {};
  }
  return bedrock::splitEmbedRequest(*request_.body, family_);
}

MappedResponse BedrockCall::joinResponses(std::vector<MappedResponse> parts) {
  return bedrock::joinEmbedResponses(std::move(parts), model_);
}

}  // namespace portico::providers
