#pragma once

#include <string_view>
#include <vector>

namespace portico {

// How a provider setting's value is typed in a config (Portkey's schema names the type in its
// error messages: "Expected string, received number").
enum class SettingType {
  kString,
  kStringMap,  // an object whose members are all strings (a service-account JSON)
};

// One provider-specific setting: a config key, and the x-portkey-* header that carries it for
// header-built targets.
struct ProviderSetting {
  std::string_view name;        // snake_case config key, e.g. "aws_region"
  SettingType type = SettingType::kString;
  std::string_view header;      // e.g. "x-portkey-aws-region"; "" when only a config sets it
  bool secret = false;          // a credential: never logged, only hashed into cache keys
};

// Settings that together are credentials enough for a config leaf (Portkey's "one of" rule).
// An empty `fields` list: the provider needs none (a keyless self-hosted server).
struct CredentialSet {
  std::vector<std::string_view> fields;
};

// Fields a target of this provider must have: at least one of `any_of`'s groups complete (every
// field in it truthy), else the config is refused with `message`, word for word.
struct RequiredSettings {
  std::vector<std::vector<std::string_view>> any_of;
  std::string_view message;
};

// Everything a provider declares about its settings.
struct ProviderSettings {
  std::vector<ProviderSetting> fields;
  std::vector<CredentialSet> credentials;
  std::vector<RequiredSettings> required;
};

}  // namespace portico
