#include "mistral_ai/mistral_adapter.hpp"

namespace portico::providers {

namespace {

// mistral_fim_completion: "true" (config field, or header x-portkey-mistral-fim-completion).
bool wantsFim(const ClientRequest& request, const Target& target) {
  if (target.option("mistral_fim_completion") == "true") {
    return true;
  }
  return request.headers != nullptr &&
         findHeader(*request.headers, "x-portkey-mistral-fim-completion").value_or("") == "true";
}

// A Mistral request: OpenAI's, with chat sent to /fim/completions when FIM is asked for.
class MistralCall final : public OpenAiCompatibleCall {
 public:
  MistralCall(const OpenAiCompatibleSpec& spec, const ClientRequest& request, const Target& target)
      : OpenAiCompatibleCall(spec, request, target),
        fim_(request.endpoint == Endpoint::kChatCompletions && wantsFim(request, target)) {}

 protected:
  std::string path() const override {
    return fim_ ? std::string("/fim/completions") : OpenAiCompatibleCall::path();
  }

 private:
  const bool fim_;
};

}  // namespace

bool applyMistralRenames(nlohmann::json& body, const ClientRequest& /*request*/) {
  if (!body.is_object()) {
    return false;
  }
  bool changed = false;
  if (auto it = body.find("seed"); it != body.end() && !body.contains("random_seed")) {
    body["random_seed"] = *it;
    body.erase("seed");
    changed = true;
  }
  if (auto it = body.find("max_completion_tokens"); it != body.end()) {
    if (!body.contains("max_tokens")) {
      body["max_tokens"] = *it;
    }
    body.erase("max_completion_tokens");
    changed = true;
  }
  if (auto it = body.find("tool_choice"); it != body.end() && *it == "required") {
    *it = "any";
    changed = true;
  }
  if (auto it = body.find("model"); it != body.end() && it->is_string()) {
    const auto& model = it->get_ref<const std::string&>();
    if (model.starts_with("mistralai.")) {
      *it = model.substr(std::string_view("mistralai.").size());
      changed = true;
    }
  }
  if (auto it = body.find("messages"); it != body.end() && it->is_array()) {
    for (auto& message : *it) {
      if (message.is_object() && message.value("role", "") == "developer") {
        message["role"] = "system";
        changed = true;
      }
    }
  }
  return changed;
}

MistralAdapter::MistralAdapter()
    : OpenAiCompatibleAdapter(OpenAiCompatibleSpec{.id = "mistral-ai",
                                                   .base_url = "https://api.mistral.ai/v1",
                                                   .endpoints = kChat | kEmbed,
                                                   .quirk = &applyMistralRenames}) {}

Expected<ProviderCallPtr> MistralAdapter::open(const ClientRequest& request,
                                               const Target& target) const {
  return ProviderCallPtr(std::make_unique<MistralCall>(spec(), request, target));
}

}  // namespace portico::providers
