#pragma once

// The per-request call of the vertex-ai adapter (internal to providers/vertex_ai).

#include <string>

#include "portico/provider_adapter.hpp"
#include "vertex_ai/vertex_adapter.hpp"

namespace portico::providers {

// What VertexAdapter::open() derived and checked, once.
struct VertexCallParts {
  VertexSettings settings;
  std::string request_model;  // the body's "model" ("" for passthrough)
  VertexModel model;          // request_model parsed
};

ProviderCallPtr makeVertexCall(const ClientRequest& request,
                               const Target& target,
                               VertexCallParts parts);

}  // namespace portico::providers
