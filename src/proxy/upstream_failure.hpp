#pragma once

#include <string_view>

#include "portico/error.hpp"
#include "portico/target.hpp"
#include "upstream/upstream_client.hpp"

namespace portico::proxy {

// The client's error for an upstream exchange that failed.
GatewayError failureError(const upstream::Failure& failure, const Target& target);

// The upstream was unreachable or dropped the connection before answering: retried whatever the
// retry status list says.
bool isNetworkFailure(upstream::FailureKind kind);

}  // namespace portico::proxy
