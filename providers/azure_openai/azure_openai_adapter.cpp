#include "azure_openai/azure_openai_adapter.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "common/request_helpers.hpp"
#include "portico/encoding.hpp"

namespace portico::providers {

namespace {

constexpr std::string_view kId = "azure-openai";
constexpr std::string_view kBearerPrefix = "bearer ";

// Portkey's token-fetching auth modes; they need an identity provider round trip we do not make.
constexpr std::string_view kUnsupportedAuthModes[] = {"entra", "managed", "workload"};

bool isNameChar(char c, bool allow_dot_underscore) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         (allow_dot_underscore && (c == '.' || c == '_'));
}

// Resource names become part of the host, deployments and versions part of the path: anything
// outside Azure's own alphabets could redirect the request, so it is refused.
bool isValidName(std::string_view value, bool allow_dot_underscore) {
  if (value.empty() || value.size() > 128) {
    return false;
  }
  return std::all_of(value.begin(), value.end(),
                     [&](char c) { return isNameChar(c, allow_dot_underscore); });
}

// Splits the client's query into its api-version value (if any) and everything else.
std::pair<std::string, std::string> splitApiVersion(std::string_view query) {
  constexpr std::string_view kKey = "api-version=";
  std::string version;
  std::string rest;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (param.starts_with(kKey)) {
      version = std::string(param.substr(kKey.size()));
    } else if (!param.empty()) {
      if (!rest.empty()) {
        rest += '&';
      }
      rest += param;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return {std::move(version), std::move(rest)};
}

bool isV1(std::string_view version) { return version == "v1"; }

// What open() resolves once for a call.
struct AzureResolved {
  std::string version;   // the API version sent ("v1": the v1 API, no api-version query)
  std::string base_url;  // the resource host, or the custom host without a trailing /openai
  std::string query;     // the client's query without its api-version, plus ours
};

Expected<bool> checkAuthMode(const AzureSettings& settings) {
  for (auto mode : kUnsupportedAuthModes) {
    if (settings.auth_mode == mode) {
      return errors::failure(400, "azure_auth_mode '" + settings.auth_mode +
                                      "' is not supported by Portico: send an Entra ID token "
                                      "as azure_ad_token (x-portkey-azure-ad-token) or an api key");
    }
  }
  return true;
}

Expected<bool> checkDeployment(const AzureSettings& settings) {
  if (settings.deployment_id.empty()) {
    return errors::failure(400,
                           "azure-openai needs a deployment: send "
                           "x-portkey-azure-deployment-id or deployment_id in the config");
  }
  if (!isValidName(settings.deployment_id, true)) {
    return errors::failure(400, "Invalid Azure deployment id: " + settings.deployment_id);
  }
  return true;
}

Expected<std::string> baseUrlOf(const AzureSettings& settings, const Target& target) {
  if (!target.custom_host.empty()) {
    // Portkey's custom hosts for azure end in /openai; ours are the bare host. Take both.
    std::string host = target.custom_host;
    while (!host.empty() && host.back() == '/') {
      host.pop_back();
    }
    if (host.ends_with("/openai")) {
      host.resize(host.size() - std::string_view("/openai").size());
    }
    return host;
  }
  if (settings.resource_name.empty()) {
    return errors::failure(400,
                           "azure-openai needs a resource name: send "
                           "x-portkey-azure-resource-name or resource_name in the config");
  }
  if (!isValidName(settings.resource_name, false)) {
    return errors::failure(400, "Invalid Azure resource name: " + settings.resource_name);
  }
  return "https://" + settings.resource_name + ".openai.azure.com";
}

Expected<AzureResolved> resolve(const AzureSettings& settings,
                                const ClientRequest& request,
                                const Target& target) {
  if (auto mode = checkAuthMode(settings); !mode) {
    return mode.error();
  }
  AzureResolved out;
  auto [client_version, other_query] = splitApiVersion(request.query);
  out.version = settings.api_version;
  if (out.version.empty()) {
    out.version = client_version.empty() ? std::string(kDefaultAzureApiVersion) : client_version;
  }
  if (!isValidName(out.version, true)) {
    return errors::failure(400, "Invalid Azure api_version: " + out.version);
  }
  // The Responses API is not under a deployment: the model names it.
  if (request.endpoint != Endpoint::kPassthrough && request.endpoint != Endpoint::kResponses &&
      !isV1(out.version)) {
    if (auto deployment = checkDeployment(settings); !deployment) {
      return deployment.error();
    }
  }
  auto base = baseUrlOf(settings, target);
  if (!base) {
    return base.error();
  }
  out.base_url = std::move(*base);
  out.query = std::move(other_query);
  if (!isV1(out.version)) {
    out.query += out.query.empty() ? "" : "&";
    out.query += "api-version=" + out.version;
  }
  return out;
}

// One request on azure-openai: OpenAI's call with Azure's URL and credentials.
class AzureCall final : public OpenAiCompatibleCall {
 public:
  AzureCall(const OpenAiCompatibleSpec& spec,
            const ClientRequest& request,
            const Target& target,
            AzureSettings settings,
            AzureResolved resolved)
      : OpenAiCompatibleCall(spec, request, target),
        settings_(std::move(settings)),
        resolved_(std::move(resolved)) {
    if (!isV1(resolved_.version) && resolved_.version < kFirstAzureStreamUsageVersion) {
      refuseStreamOptions();  // older API versions refuse stream_options
    }
  }

 protected:
  std::string_view baseUrl() const override { return resolved_.base_url; }
  std::string query() const override { return resolved_.query; }

  std::string path() const override {
    const bool v1 = isV1(resolved_.version);
    if (passthrough() || client().endpoint == Endpoint::kResponses) {
      return (v1 ? "/openai/v1" : "/openai") + client().path;
    }
    std::string path = v1 ? "/openai/v1" : "/openai/deployments/" + settings_.deployment_id;
    switch (client().endpoint) {
      case Endpoint::kChatCompletions:
        return path + "/chat/completions";
      case Endpoint::kCompletions:
        return path + "/completions";
      case Endpoint::kEmbeddings:
        return path + "/embeddings";
      case Endpoint::kMessages:
      case Endpoint::kResponses:
      case Endpoint::kPassthrough:
        break;
    }
    return path + client().path;
  }

  Expected<bool> addAuth(HeaderList& headers) const override {
    // Exactly one credential goes upstream: the Entra ID token wins over the key.
    // Passthrough copied the client's headers first: drop any credential the client sent.
    std::erase_if(headers,
                  [](const auto& h) { return h.first == "authorization" || h.first == "api-key"; });
    if (!settings_.ad_token.empty()) {
      headers.emplace_back("authorization", "Bearer " + settings_.ad_token);
      return true;
    }
    if (target().api_key.empty()) {
      return errors::missingApiKey(kId);
    }
    headers.emplace_back("api-key", target().api_key);
    return true;
  }

  void addProviderHeaders(HeaderList& headers) const override {
    std::string beta = settings_.openai_beta;
    if (beta.empty() && client().headers != nullptr) {
      beta = std::string(findHeader(*client().headers, "openai-beta").value_or(""));
    }
    if (!beta.empty()) {
      setHeader(headers, "openai-beta", std::move(beta));
    }
  }

 private:
  const AzureSettings settings_;
  const AzureResolved resolved_;
};

}  // namespace

AzureSettings AzureSettings::read(const Target& target) {
  AzureSettings out;
  out.resource_name = target.option("resource_name", "azure_resource_name");
  out.deployment_id = target.option("deployment_id", "azure_deployment_id");
  out.api_version = target.option("api_version", "azure_api_version");
  out.auth_mode = target.option("azure_auth_mode");
  out.ad_token = target.option("azure_ad_token");
  if (asciiLower(std::string_view(out.ad_token).substr(0, kBearerPrefix.size())) == kBearerPrefix) {
    out.ad_token.erase(0, kBearerPrefix.size());
  }
  out.openai_beta = target.option("openai_beta");
  return out;
}

AzureOpenAiAdapter::AzureOpenAiAdapter()
    : OpenAiCompatibleAdapter(OpenAiCompatibleSpec{.id = kId,
                                                   .base_url = "",
                                                   .endpoints = kChat | kText | kEmbed | kResp,
                                                   .auth = AuthStyle::kApiKeyHeader,
                                                   .asks_stream_usage = true}) {}

Expected<ProviderCallPtr> AzureOpenAiAdapter::open(const ClientRequest& request,
                                                   const Target& target) const {
  AzureSettings settings = AzureSettings::read(target);
  auto resolved = resolve(settings, request, target);
  if (!resolved) {
    return resolved.error();
  }
  return ProviderCallPtr(std::make_unique<AzureCall>(spec(), request, target, std::move(settings),
                                                     std::move(*resolved)));
}

}  // namespace portico::providers
