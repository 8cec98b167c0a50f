#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bedrock/bedrock_adapter.hpp"

namespace portico::providers {

// One client request on one Bedrock target: the model, its family, the stream flag and the
// target's settings (region, credentials) are read once, when BedrockAdapter::open() makes it.
class BedrockCall final : public ProviderCall {
 public:
  BedrockCall(const ClientRequest& request, const Target& target, BedrockSettings settings);

  // The Converse, InvokeModel or passthrough request, unsigned.
  Expected<UpstreamRequest> request() override;
  // SigV4 over the finished request (its Host as the upstream client sends it), or the Bedrock
  // API key as Bearer. Secrets never reach a message.
  Expected<bool> authenticate(UpstreamRequest& request) override;
  MappedResponse mapResponse(UpstreamReply reply) override;
  std::unique_ptr<StreamTransformer> streamTransformer() override;
  // Titan embedding models take one input per InvokeModel call: several inputs become one part
  // each, and the answers one OpenAI list in input order.
  std::vector<nlohmann::json> splitRequest() override;
  MappedResponse joinResponses(std::vector<MappedResponse> parts) override;

 private:
  Expected<UpstreamRequest> passthroughRequest() const;
  Expected<UpstreamRequest> modelRequest() const;
  Expected<bool> sign(UpstreamRequest& out) const;
  MappedResponse mapChat(const nlohmann::json& converse) const;
  MappedResponse mapEmbeddings(const nlohmann::json& upstream) const;

  const ClientRequest& request_;
  const Target& target_;
  BedrockSettings settings_;
  std::string model_;  // the body's "model"; "" when absent (request() refuses that)
  bedrock::ModelFamily family_;
  bool stream_;  // Converse's converse-stream action
};

}  // namespace portico::providers
