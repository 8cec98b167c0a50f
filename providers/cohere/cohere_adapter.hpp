#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "portico/provider_adapter.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers {

// Cohere's own v2 API (https://api.cohere.com): chat at /v2/chat, embeddings at /v2/embed,
// Bearer auth. Requests, answers, streams and errors are translated to and from OpenAI's format.
class CohereAdapter : public ProviderAdapter {
 public:
  static constexpr std::string_view kBaseUrl = "https://api.cohere.com";

  std::string_view id() const override { return "cohere"; }
  bool supports(Endpoint endpoint) const override;
  // Declared in cohere_settings.cpp.
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
};

// OpenAI chat body -> Cohere v2 chat body. Fails (400) on input Cohere cannot take.
Expected<nlohmann::json> toCohereChatBody(const nlohmann::json& body);

// Cohere's finish_reason in OpenAI's terms (strict) or as sent (not strict).
std::string mapCohereFinishReason(std::string_view reason, bool strict);

// OpenAI usage from Cohere's usage object: usage.tokens (what the model saw), else
// usage.billed_units; null when neither is there.
nlohmann::json cohereUsageToOpenAi(const nlohmann::json& usage);

// Turns Cohere's v2 chat SSE (message-start ... message-end) into chat.completion.chunk SSE.
class CohereStreamTransformer : public StreamTransformer {
 public:
  CohereStreamTransformer(
      std::string model, long long created, long long now_ms, bool strict, bool include_usage);
  void feed(std::string_view bytes, std::string& out) override;
  void finish(bool complete, std::string& out) override;

 private:
  void handle(const stream::SseParser::Event& event, std::string& out);
  nlohmann::json chunkWith(nlohmann::json delta, nlohmann::json finish_reason = nullptr) const;
  void fail(std::string_view message, std::string& out);

  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  std::string id_;
  std::string model_;
  long long created_;
  bool strict_;
  bool include_usage_;
  int tool_index_ = -1;
  bool ended_ = false;  // [DONE] or an error event was written: nothing more goes out
};

}  // namespace portico::providers
