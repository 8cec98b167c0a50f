#include "bedrock_adapter.hpp"

namespace portico::providers {

const ProviderSettings& BedrockAdapter::settings() const {
  static const ProviderSettings kSettings{
      .fields =
          {
              {.name = "aws_access_key_id",
               .header = "x-portkey-aws-access-key-id",
               .secret = true},
              {.name = "aws_secret_access_key",
               .header = "x-portkey-aws-secret-access-key",
               .secret = true},
              {.name = "aws_session_token",
               .header = "x-portkey-aws-session-token",
               .secret = true},
              {.name = "aws_region", .header = "x-portkey-aws-region"},
              // "apiKey": the provider key as a Bearer token instead of SigV4.
              {.name = "aws_auth_type", .header = "x-portkey-aws-auth-type"},
              // Portkey's assumed-role settings: accepted and passed on, not typed.
              {.name = "aws_role_arn",
               .type = SettingType::kAny,
               .header = "x-portkey-aws-role-arn"},
              {.name = "aws_external_id",
               .type = SettingType::kAny,
               .header = "x-portkey-aws-external-id"},
              // Claude on Bedrock: additionalModelRequestFields.anthropic_beta.
              {.name = "anthropic_beta",
               .type = SettingType::kAny,
               .header = "x-portkey-anthropic-beta"},
          },
      // Portkey accepts AWS keys, or an AWS auth type (credentials resolved elsewhere), on any
      // node of a config.
      .credentials =
          {
              {.fields = {"aws_access_key_id", "aws_secret_access_key"}, .any_provider = true},
              {.fields = {"aws_auth_type"}, .any_provider = true},
          },
  };
  return kSettings;
}

}  // namespace portico::providers
