#include "azure_openai/azure_openai_adapter.hpp"

#include <algorithm>
#include <string>

#include "common/request_helpers.hpp"

namespace portico::providers {

namespace {

constexpr std::string_view kId = "azure-openai";

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
  for (char c : value) {
    if (!isNameChar(c, allow_dot_underscore)) {
      return false;
    }
  }
  return true;
}

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i];
    if (a >= 'A' && a <= 'Z') {
      a = static_cast<char>(a - 'A' + 'a');
    }
    if (a != prefix[i]) {
      return false;
    }
  }
  return true;
}

// Splits the client's query into its api-version value (if any) and everything else.
std::pair<std::string, std::string> splitApiVersion(std::string_view query) {
  std::string version;
  std::string rest;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (param.starts_with("api-version=")) {
      version = std::string(param.substr(std::string_view("api-version=").size()));
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

std::string deploymentOf(const Target& target) {
  return target.option("deployment_id", "azure_deployment_id");
}

bool isV1(std::string_view version) { return version == "v1"; }

}  // namespace

AzureOpenAiAdapter::AzureOpenAiAdapter()
    : OpenAiCompatibleAdapter(OpenAiCompatibleSpec{.id = kId,
                                                   .base_url = "",
                                                   .endpoints = kChat | kText | kEmbed,
                                                   .auth = AuthStyle::kApiKeyHeader}) {}

Expected<UpstreamRequest> AzureOpenAiAdapter::buildRequest(const ClientRequest& request,
                                                           const Target& target) const {
  const std::string auth_mode = target.option("azure_auth_mode");
  for (auto mode : kUnsupportedAuthModes) {
    if (auth_mode == mode) {
      return errors::failure(400, "azure_auth_mode '" + auth_mode +
                                      "' is not supported by Portico: send an Entra ID token "
                                      "as azure_ad_token (x-portkey-azure-ad-token) or an api key");
    }
  }

  auto [client_version, other_query] = splitApiVersion(request.query);
  std::string version = target.option("api_version", "azure_api_version");
  if (version.empty()) {
    version = client_version.empty() ? std::string(kDefaultAzureApiVersion) : client_version;
  }
  if (!isValidName(version, true)) {
    return errors::failure(400, "Invalid Azure api_version: " + version);
  }

  const bool passthrough = request.endpoint == Endpoint::kPassthrough;
  if (!passthrough && !isV1(version)) {
    std::string deployment = deploymentOf(target);
    if (deployment.empty()) {
      return errors::failure(400,
                             "azure-openai needs a deployment: send "
                             "x-portkey-azure-deployment-id or deployment_id in the config");
    }
    if (!isValidName(deployment, true)) {
      return errors::failure(400, "Invalid Azure deployment id: " + deployment);
    }
  }

  // The base URL is per request (resource host, or the custom host), so it travels to the
  // shared buildRequest as the target's custom host.
  Target effective = target;
  if (effective.custom_host.empty()) {
    std::string resource = target.option("resource_name", "azure_resource_name");
    if (resource.empty()) {
      return errors::failure(400,
                             "azure-openai needs a resource name: send "
                             "x-portkey-azure-resource-name or resource_name in the config");
    }
    if (!isValidName(resource, false)) {
      return errors::failure(400, "Invalid Azure resource name: " + resource);
    }
    effective.custom_host = "https://" + resource + ".openai.azure.com";
  } else {
    // Portkey's custom hosts for azure end in /openai; ours are the bare host. Take both.
    std::string& host = effective.custom_host;
    while (!host.empty() && host.back() == '/') {
      host.pop_back();
    }
    if (host.ends_with("/openai")) {
      host.resize(host.size() - std::string_view("/openai").size());
    }
  }

  // The query the upstream gets: the client's, minus any api-version, plus ours.
  ClientRequest adjusted = request;
  adjusted.query = std::move(other_query);
  if (!isV1(version)) {
    if (!adjusted.query.empty()) {
      adjusted.query += '&';
    }
    adjusted.query += "api-version=" + version;
  }
  // pathFor() only sees the target: hand it the resolved version through the private copy.
  effective.options["azure_api_version_resolved"] = version;

  auto out = OpenAiCompatibleAdapter::buildRequest(adjusted, effective);
  if (!out) {
    return out;
  }
  std::string beta = target.option("openai_beta");
  if (beta.empty() && request.headers != nullptr) {
    beta = std::string(findHeader(*request.headers, "openai-beta").value_or(""));
  }
  if (!beta.empty()) {
    setHeader(out->headers, "openai-beta", std::move(beta));
  }
  return out;
}

std::string AzureOpenAiAdapter::pathFor(const ClientRequest& request, const Target& target) const {
  const bool v1 = isV1(target.option("azure_api_version_resolved"));
  std::string path;
  if (request.endpoint == Endpoint::kPassthrough) {
    // The shared buildRequest appends the (already adjusted) query to passthrough requests.
    return (v1 ? "/openai/v1" : "/openai") + request.path;
  }
  path = v1 ? "/openai/v1" : "/openai/deployments/" + deploymentOf(target);
  switch (request.endpoint) {
    case Endpoint::kChatCompletions:
      path += "/chat/completions";
      break;
    case Endpoint::kCompletions:
      path += "/completions";
      break;
    case Endpoint::kEmbeddings:
      path += "/embeddings";
      break;
    case Endpoint::kMessages:
    case Endpoint::kPassthrough:
      path += request.path;
      break;
  }
  if (!request.query.empty()) {
    path += '?';
    path += request.query;
  }
  return path;
}

Expected<bool> AzureOpenAiAdapter::applyAuth(const ClientRequest& /*request*/,
                                             const Target& target,
                                             UpstreamRequest& out) const {
  std::string token = target.option("azure_ad_token");
  if (startsWithIgnoreCase(token, "bearer ")) {
    token.erase(0, std::string_view("bearer ").size());
  }
  // Exactly one credential goes upstream: the Entra ID token wins over the key.
  // Passthrough copied the client's headers first: drop any credential the client sent.
  out.headers.erase(std::remove_if(out.headers.begin(), out.headers.end(),
                                   [](const auto& h) {
                                     return h.first == "authorization" || h.first == "api-key";
                                   }),
                    out.headers.end());
  if (!token.empty()) {
    out.headers.emplace_back("authorization", "Bearer " + token);
    return true;
  }
  if (target.api_key.empty()) {
    return errors::missingApiKey(kId);
  }
  out.headers.emplace_back("api-key", target.api_key);
  return true;
}

}  // namespace portico::providers
