#include "apis/translated_adapter.hpp"

#include "apis/messages_api.hpp"
#include "apis/responses_api.hpp"
#include "portico/json_parse.hpp"

namespace portico::apis {
namespace {

using nlohmann::json;

bool isSuccess(int status) { return status >= 200 && status < 300; }

// An error the call refused the request with (its body, a missing key, a setting), in the
// shape the client's API has: Anthropic's clients read Anthropic's error object.
GatewayError inClientShape(Endpoint api, GatewayError error) {
  if (api == Endpoint::kMessages) {
    error.body = messages::errorFromChat(
        error.status, error.body.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return error;
}

// One client request in the Responses or Messages format on a provider's chat call. It owns
// the chat request the inner call was opened with, so it outlives that call.
class TranslatedCall final : public ProviderCall {
 public:
  TranslatedCall(Endpoint api, const ClientRequest& client, json chat_body)
      : api_(api), client_(client), chat_body_(std::move(chat_body)), chat_request_(client) {
    chat_request_.endpoint = Endpoint::kChatCompletions;
    chat_request_.path = "/chat/completions";
    chat_request_.query.clear();
    chat_request_.raw_body = {};
    chat_request_.body = &chat_body_;
    chat_request_.body_modified = true;  // raw_body is the client's other format
  }

  Expected<bool> openInner(const ProviderAdapter& chat, const Target& target) {
    auto inner = chat.open(chat_request_, target);
    if (!inner) {
      return inClientShape(api_, inner.error());
    }
    inner_ = std::move(*inner);
    return true;
  }

  Expected<UpstreamRequest> request() override {
    auto request = inner_->request();
    if (!request) {
      return inClientShape(api_, request.error());
    }
    return request;
  }
  Expected<bool> authenticate(UpstreamRequest& request) override {
    auto signed_request = inner_->authenticate(request);
    if (!signed_request) {
      return inClientShape(api_, signed_request.error());
    }
    return signed_request;
  }

  MappedResponse mapResponse(UpstreamReply reply) override {
    MappedResponse mapped = inner_->mapResponse(std::move(reply));
    if (!isSuccess(mapped.status)) {
      if (api_ == Endpoint::kMessages) {
        mapped.body = messages::errorFromChat(mapped.status, mapped.body).dump();
        mapped.content_type = "application/json";
      }
      return mapped;  // a chat error is already the Responses API's error shape
    }
    const json chat = parseJson(mapped.body);
    if (!chat.is_object()) {
      return untranslatable(std::move(mapped));
    }
    const json& request = *client_.body;
    const json answer = api_ == Endpoint::kMessages ? messages::fromChatResponse(chat, request)
                                                    : responses::fromChatResponse(chat, request);
    mapped.body = answer.dump(-1, ' ', false, json::error_handler_t::replace);
    mapped.content_type = "application/json";
    return mapped;
  }

  std::unique_ptr<StreamTransformer> streamTransformer() override {
    auto inner = inner_->streamTransformer();
    const json& request = *client_.body;
    return api_ == Endpoint::kMessages ? messages::streamFromChat(request, std::move(inner))
                                       : responses::streamFromChat(request, std::move(inner));
  }

 private:
  // A 2xx chat answer that is not a JSON object: a bad gateway, in the client's error shape.
  MappedResponse untranslatable(MappedResponse mapped) const {
    const std::string message = "the upstream's answer is not a chat completion";
    mapped.status = 502;
    mapped.content_type = "application/json";
    mapped.usage.reset();
    mapped.body = api_ == Endpoint::kMessages ? messages::errorFromChat(502, message).dump()
                                              : errors::failure(502, message).body.dump();
    return mapped;
  }

  const Endpoint api_;
  const ClientRequest& client_;
  json chat_body_;
  ClientRequest chat_request_;
  ProviderCallPtr inner_;  // last: destroyed first, it refers to chat_request_
};

}  // namespace

bool translatesThroughChat(Endpoint endpoint) {
  return endpoint == Endpoint::kResponses || endpoint == Endpoint::kMessages;
}

Expected<ProviderCallPtr> ChatTranslatedAdapter::open(const ClientRequest& request,
                                                      const Target& target) const {
  if (request.body == nullptr || !request.body->is_object()) {
    return errors::failure(400, "The request body must be a JSON object");
  }
  auto chat_body = client_api_ == Endpoint::kMessages ? messages::toChatRequest(*request.body)
                                                      : responses::toChatRequest(*request.body);
  if (!chat_body) {
    return inClientShape(client_api_, chat_body.error());
  }
  auto call = std::make_unique<TranslatedCall>(client_api_, request, std::move(*chat_body));
  if (auto opened = call->openInner(chat_, target); !opened) {
    return opened.error();
  }
  return ProviderCallPtr(std::move(call));
}

}  // namespace portico::apis
