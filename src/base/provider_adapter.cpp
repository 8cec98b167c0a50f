#include "portico/provider_adapter.hpp"

namespace portico {

const ProviderSettings& ProviderAdapter::settings() const {
  static const ProviderSettings kNone;
  return kNone;
}

Expected<UpstreamRequest> ProviderAdapter::buildRequest(const ClientRequest& request,
                                                        const Target& target) const {
  auto call = open(request, target);
  if (!call) {
    return call.error();
  }
  auto built = (*call)->request();
  if (!built) {
    return built;
  }
  if (auto authenticated = (*call)->authenticate(*built); !authenticated) {
    return authenticated.error();
  }
  return built;
}

MappedResponse ProviderAdapter::mapResponse(const ClientRequest& request,
                                            const Target& target,
                                            UpstreamReply reply) const {
  auto call = open(request, target);
  if (!call) {
    const auto& error = call.error();
    return MappedResponse{
        error.status, "application/json",
        error.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  }
  return (*call)->mapResponse(std::move(reply));
}

std::unique_ptr<StreamTransformer> ProviderAdapter::makeStreamTransformer(
    const ClientRequest& request, const Target& target) const {
  auto call = open(request, target);
  return call ? (*call)->streamTransformer() : nullptr;
}

}  // namespace portico
