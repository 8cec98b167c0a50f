#include "proxy/provider_steps.hpp"

namespace portico::proxy {
namespace {

GatewayError invalidRequest(const Target& target, const std::exception& e) {
  return errors::failure(400, "Invalid request for " + target.provider + ": " + e.what());
}

MappedResponse unexpectedAnswer(const Target& target, const std::exception& e) {
  return errorAnswer(
      errors::providerError(502, target.provider, std::string("unexpected response: ") + e.what()));
}

}  // namespace

MappedResponse errorAnswer(const GatewayError& error) {
  return MappedResponse{error.status, "application/json",
                        error.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Expected<ProviderCallPtr> openCall(const ProviderAdapter& adapter,
                                   const ClientRequest& request,
                                   const Target& target) {
  try {
    return adapter.open(request, target);
  } catch (const std::exception& e) {
    return invalidRequest(target, e);
  }
}

Expected<UpstreamRequest> buildUpstream(ProviderCall& call, const Target& target) {
  try {
    auto built = call.request();
    if (!built) {
      return built;
    }
    built->check_address = !target.custom_host.empty();
    if (auto authenticated = call.authenticate(*built); !authenticated) {
      return authenticated.error();
    }
    return built;
  } catch (const std::exception& e) {
    return invalidRequest(target, e);
  }
}

MappedResponse mapAnswer(ProviderCall& call, const Target& target, UpstreamReply reply) {
  try {
    return call.mapResponse(std::move(reply));
  } catch (const std::exception& e) {
    return unexpectedAnswer(target, e);
  }
}

Expected<std::unique_ptr<StreamTransformer>> makeTransformer(ProviderCall& call,
                                                             const Target& target) {
  try {
    return call.streamTransformer();
  } catch (const std::exception& e) {
    return invalidRequest(target, e);
  }
}

std::vector<nlohmann::json> splitParts(ProviderCall& call) {
  try {
    return call.splitRequest();
  } catch (const std::exception&) {
    return {};
  }
}

MappedResponse joinParts(ProviderCall& call,
                         const Target& target,
                         std::vector<MappedResponse> parts) {
  try {
    return call.joinResponses(std::move(parts));
  } catch (const std::exception& e) {
    return unexpectedAnswer(target, e);
  }
}

}  // namespace portico::proxy
