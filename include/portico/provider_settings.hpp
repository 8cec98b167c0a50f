#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace portico {

// How a provider setting's value is typed in a config (Portkey's schema names the type in its
// error messages: "Expected string, received number").
enum class SettingType {
  kString,
  kStringMap,  // an object whose members are all strings (a service-account JSON)
  kAny,        // not typed by Portkey's schema: any JSON value, handed to the adapter as written
};

// One provider-specific setting: a config key, and the x-portkey-* header that carries it for
// header-built targets (a header value is always a string, whatever the type).
struct ProviderSetting {
  std::string_view name;  // snake_case config key, e.g. "aws_region"
  SettingType type = SettingType::kString;
  std::string_view header;  // e.g. "x-portkey-aws-region"; "" when only a config sets it
  bool secret = false;      // a credential: never logged, only hashed into cache keys
};

// Settings that together are credentials enough for a config leaf (Portkey's "one of" rule:
// every field truthy). An empty `fields` list: the provider needs none (a keyless self-hosted
// server).
struct CredentialSet {
  std::vector<std::string_view> fields;
  // The set counts whatever the node's provider is, or without one (Portkey accepts AWS keys,
  // aws_auth_type and azure_auth_mode on any node).
  bool any_provider = false;
};

// Fields a target of this provider must have: at least one of `any_of`'s groups complete (every
// field in it truthy), else the config is refused with `message`, word for word.
struct RequiredSettings {
  std::vector<std::vector<std::string_view>> any_of;
  std::string_view message;
};

// Everything a provider declares about its settings (ProviderAdapter::settings()).
struct ProviderSettings {
  std::vector<ProviderSetting> fields;
  std::vector<CredentialSet> credentials;
  std::vector<RequiredSettings> required;
};

// Every registered provider's settings, merged once at start-up into the lookups the config and
// header parsers use per request (ProviderRegistry::settingsCatalog() builds it). Read-only
// afterwards, so one catalog is shared by every worker. Owns its strings.
class SettingsCatalog {
 public:
  struct Field {
    std::string name;
    SettingType type = SettingType::kString;
    bool secret = false;
  };

  // A credential set or a required group: field names that must all be truthy.
  using FieldGroup = std::vector<std::string>;

  struct Requirement {
    std::vector<FieldGroup> any_of;
    std::string message;
  };

  // What one provider's config leaves must satisfy.
  struct ProviderRules {
    std::vector<FieldGroup> credentials;  // an empty group: no credentials needed
    std::vector<Requirement> required;
  };

  // Merges one provider's declarations. A field declared by several providers must have one
  // type (its secret flags are or-ed); a header names one field and starts with "x-portkey-".
  // Breaking either rule is a programming error and throws std::logic_error.
  void add(std::string_view provider_id, const ProviderSettings& settings);

  // The field named `name` (snake_case) when some provider declares it, else nullptr. Portkey's
  // schema is global: a declared field is type-checked on every config node.
  const Field* field(std::string_view name) const;
  // The field an x-portkey-* header (lower-case name) carries, else nullptr.
  const Field* fieldForHeader(std::string_view header) const;
  // The rules of a provider id, else nullptr.
  const ProviderRules* rules(std::string_view provider_id) const;
  // The credential sets that count on any node.
  const std::vector<FieldGroup>& anyProviderCredentials() const { return any_provider_; }
  // True when the field is a credential (for logs and redaction).
  bool isSecret(std::string_view name) const;

 private:
  std::map<std::string, Field, std::less<>> fields_;
  std::map<std::string, std::string, std::less<>> headers_;  // header -> field name
  std::map<std::string, ProviderRules, std::less<>> rules_;
  std::vector<FieldGroup> any_provider_;
};

}  // namespace portico
