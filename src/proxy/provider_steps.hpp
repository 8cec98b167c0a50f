#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "portico/provider_adapter.hpp"

namespace portico::proxy {

// The provider call's steps as the pipeline runs them. Adapters may use nlohmann's throwing
// accessors; an exception becomes the client's error here (400 for a request of the wrong
// shape, 502 for an upstream answer of the wrong shape), never an unwound session.

Expected<ProviderCallPtr> openCall(const ProviderAdapter& adapter,
                                   const ClientRequest& request,
                                   const Target& target);

// request(), then authenticate() last; marks requests to a custom host for the address check.
Expected<UpstreamRequest> buildUpstream(ProviderCall& call, const Target& target);

MappedResponse mapAnswer(ProviderCall& call, const Target& target, UpstreamReply reply);

Expected<std::unique_ptr<StreamTransformer>> makeTransformer(ProviderCall& call,
                                                             const Target& target);

// splitRequest(); a body the adapter cannot split is left whole (buildUpstream reports it).
std::vector<nlohmann::json> splitParts(ProviderCall& call);

MappedResponse joinParts(ProviderCall& call,
                         const Target& target,
                         std::vector<MappedResponse> parts);

// A GatewayError as a complete answer.
MappedResponse errorAnswer(const GatewayError& error);

}  // namespace portico::proxy
