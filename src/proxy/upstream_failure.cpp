#include "proxy/upstream_failure.hpp"

namespace portico::proxy {

GatewayError failureError(const upstream::Failure& failure, const Target& target) {
  const std::string_view provider = target.provider;
  switch (failure.kind) {
    case upstream::FailureKind::kDeadline:
      return errors::requestTimeout(target.request_timeout_ms.value_or(0));
    case upstream::FailureKind::kReadTimeout:
      return errors::upstreamTimeout(provider);
    case upstream::FailureKind::kRefused:
      return errors::failure(400, std::string(provider) + ": " + failure.detail);
    case upstream::FailureKind::kConnect:
    case upstream::FailureKind::kBroken:
    case upstream::FailureKind::kTooLarge:
    case upstream::FailureKind::kCancelled:
      break;
  }
  return errors::upstreamUnreachable(provider, failure.detail);
}

bool isNetworkFailure(upstream::FailureKind kind) {
  return kind == upstream::FailureKind::kConnect || kind == upstream::FailureKind::kBroken;
}

}  // namespace portico::proxy
