#include "vertex_adapter.hpp"

namespace portico::providers {
namespace {

// Portkey's exact text.
constexpr std::string_view kVertexMessage =
    "Invalid configuration. ('vertex_project_id' and 'vertex_region') or "
    "('vertex_service_account_json' and 'vertex_region') are required for 'vertex-ai' provider. "
    "Example: { 'provider': 'vertex-ai', 'vertex_project_id': 'my-project-id', 'vertex_region': "
    "'us-central1', api_key: 'ya29...' }";

}  // namespace

const ProviderSettings& VertexAdapter::settings() const {
  static const ProviderSettings kSettings{
      .fields =
          {
              {.name = "vertex_project_id", .header = "x-portkey-vertex-project-id"},
              {.name = "vertex_region", .header = "x-portkey-vertex-region"},
              // An object of strings in a config; the header carries it as JSON text.
              {.name = "vertex_service_account_json",
               .type = SettingType::kStringMap,
               .header = "x-portkey-vertex-service-account-json",
               .secret = true},
              // Claude on Vertex: the Anthropic mapping's settings.
              {.name = "anthropic_beta",
               .type = SettingType::kAny,
               .header = "x-portkey-anthropic-beta"},
              {.name = "default_max_tokens",
               .type = SettingType::kAny,
               .header = "x-portkey-default-max-tokens"},
          },
      .credentials =
          {
              {.fields = {"vertex_region", "vertex_service_account_json"}},
              {.fields = {"vertex_region", "vertex_project_id"}},
          },
      .required =
          {
              {.any_of = {{"vertex_project_id", "vertex_region"},
                          {"vertex_service_account_json", "vertex_region"}},
               .message = kVertexMessage},
          },
  };
  return kSettings;
}

}  // namespace portico::providers
