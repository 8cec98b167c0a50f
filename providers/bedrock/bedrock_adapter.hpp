#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "portico/provider_adapter.hpp"
#include "portico/aws_eventstream_parser.hpp"

namespace portico::providers {

// AWS Bedrock: chat through the Converse API (/model/{id}/converse and /converse-stream, binary
// event-stream answers), embeddings through InvokeModel (Titan and Cohere embedding models),
// and /v1/* passthrough, all signed with SigV4 (service "bedrock") or sent with a Bedrock API
// key as Bearer when aws_auth_type is "apiKey".
class BedrockAdapter : public ProviderAdapter {
 public:
  std::string_view id() const override { return "bedrock"; }
  bool supports(Endpoint endpoint) const override;
  // Declared in bedrock_settings.cpp.
  const ProviderSettings& settings() const override;
  Expected<ProviderCallPtr> open(const ClientRequest& request,
                                 const Target& target) const override;
  Expected<UpstreamRequest> buildRequest(const ClientRequest& request,
                                         const Target& target) const;
  MappedResponse mapResponse(const ClientRequest& request,
                             const Target& target,
                             UpstreamReply reply) const;
  std::unique_ptr<StreamTransformer> makeStreamTransformer(const ClientRequest& request,
                                                           const Target& target) const;
  // Titan embedding models take one input per InvokeModel call: several inputs become one
  // part each, and the answers one OpenAI list in input order.
  std::vector<nlohmann::json> splitRequest(const ClientRequest& request,
                                           const Target& target) const;
  MappedResponse joinResponses(const ClientRequest& request,
                               const Target& target,
                               std::vector<MappedResponse> parts) const;
};

// The pieces of the adapter, exposed for unit tests.
namespace bedrock {

// "https://bedrock-runtime.<region>.amazonaws.com".
std::string baseUrl(std::string_view region);

// "/model/<percent-encoded model id>/<action>".
std::string modelPath(std::string_view model, std::string_view action);

// OpenAI chat body -> Converse body (no model: it is in the URL). Fails with a 400 on shapes
// Bedrock cannot take (remote image URLs, tool arguments that are not JSON, unknown roles).
Expected<nlohmann::json> toConverseBody(const nlohmann::json& body,
                                        std::string_view model,
                                        const Target& target);

// Converse stopReason -> OpenAI finish_reason.
std::string finishReason(std::string_view stop_reason);

// Converse usage -> OpenAI usage.
nlohmann::json usage(const nlohmann::json& converse_usage);

// Converse answer -> chat.completion. Fails (502) when the answer has no output message.
Expected<nlohmann::json> fromConverseResponse(const nlohmann::json& converse,
                                              std::string_view id,
                                              std::string_view model,
                                              long long created,
                                              bool strict);

// AWS error body (and status) -> the normalised OpenAI error.
MappedResponse mapError(const UpstreamReply& reply);

// Whether a model id names a Titan or a Cohere embedding model.
bool isTitanEmbedModel(std::string_view model);
bool isCohereEmbedModel(std::string_view model);

// OpenAI embeddings body -> InvokeModel body for the model.
Expected<nlohmann::json> toEmbedBody(const nlohmann::json& body, std::string_view model);

// InvokeModel embedding answer -> OpenAI list.
Expected<nlohmann::json> fromEmbedResponse(const nlohmann::json& upstream, std::string_view model);

// A fresh chat completion id.
std::string newCompletionId();

}  // namespace bedrock

// Turns a converse-stream event-stream into OpenAI chat.completion.chunk SSE.
class BedrockStreamTransformer : public StreamTransformer {
 public:
  BedrockStreamTransformer(
      std::string id, std::string model, long long created, bool include_usage, bool strict);
  void feed(std::string_view bytes, std::string& out) override;
  void finish(bool complete, std::string& out) override;

 private:
  void handle(const stream::EventStreamMessage& message, std::string& out);
  void handleEvent(std::string_view type, const nlohmann::json& payload, std::string& out);
  void fail(std::string_view message, nlohmann::json type, std::string& out);
  nlohmann::json chunk() const;
  void emitDelta(nlohmann::json delta, std::string& out);

  std::string id_;
  std::string model_;
  long long created_;
  bool include_usage_;
  bool strict_;
  stream::AwsEventStreamParser parser_;
  std::vector<stream::EventStreamMessage> messages_;
  // contentBlockIndex -> OpenAI tool_calls index.
  std::map<long long, int> tool_index_;
  int next_tool_index_ = 0;
  bool finish_sent_ = false;       // messageStop arrived
  nlohmann::json pending_finish_;  // its chunk, until metadata brings the usage
  bool ended_ = false;             // [DONE] or an error event was written; later bytes are ignored
};

}  // namespace portico::providers
