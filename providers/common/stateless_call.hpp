#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "portico/provider_adapter.hpp"

namespace portico::providers {

// A call for an adapter whose steps need nothing derived up front: each step calls the
// adapter's function of the same name with the request and target the call was opened with.
template <class Adapter>
class StatelessCall final : public ProviderCall {
 public:
  StatelessCall(const Adapter& adapter, const ClientRequest& request, const Target& target)
      : adapter_(adapter), request_(request), target_(target) {}

  Expected<UpstreamRequest> request() override {
    return adapter_.buildRequest(request_, target_);
  }
  MappedResponse mapResponse(UpstreamReply reply) override {
    return adapter_.mapResponse(request_, target_, std::move(reply));
  }
  std::unique_ptr<StreamTransformer> streamTransformer() override {
    return adapter_.makeStreamTransformer(request_, target_);
  }
  std::vector<nlohmann::json> splitRequest() override {
    if constexpr (requires { adapter_.splitRequest(request_, target_); }) {
      return adapter_.splitRequest(request_, target_);
    } else {
      return {};
    }
  }
  MappedResponse joinResponses(std::vector<MappedResponse> parts) override {
    if constexpr (requires { adapter_.joinResponses(request_, target_, std::move(parts)); }) {
      return adapter_.joinResponses(request_, target_, std::move(parts));
    } else {
      return ProviderCall::joinResponses(std::move(parts));
    }
  }

 private:
  const Adapter& adapter_;
  const ClientRequest& request_;
  const Target& target_;
};

template <class Adapter>
Expected<ProviderCallPtr> openStateless(const Adapter& adapter,
                                        const ClientRequest& request,
                                        const Target& target) {
  return ProviderCallPtr(std::make_unique<StatelessCall<Adapter>>(adapter, request, target));
}

}  // namespace portico::providers
