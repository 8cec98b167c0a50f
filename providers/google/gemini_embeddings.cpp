// OpenAI /v1/embeddings <-> Gemini embedContent / batchEmbedContents.
#include <string>

#include "google/gemini_json.hpp"
#include "google/gemini_mapping.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers::gemini {

using nlohmann::json;
using namespace detail;

Expected<EmbedRequest> embedRequestBody(const json& body, std::string_view model) {
  const json* input = member(body, "input");
  if (input == nullptr) {
    return badRequest("input is required");
  }
  json config = json::object();
  if (const json* dimensions = member(body, "dimensions")) {
    config["outputDimensionality"] = *dimensions;
  }
  auto request = [&](const std::string& text) {
    json r = {{"content", {{"parts", json::array({{{"text", text}}})}}}};
    r.update(config);
    return r;
  };
  if (input->is_string()) {
    return EmbedRequest{false, request(input->get<std::string>())};
  }
  if (!input->is_array() || input->empty()) {
    return badRequest("input must be a string or a non-empty array of strings");
  }
  json requests = json::array();
  for (const auto& item : *input) {
    if (!item.is_string()) {
      return badRequest("Only string inputs are supported for embeddings on this provider");
    }
    json r = request(item.get<std::string>());
    r["model"] = "models/" + std::string(model);
    requests.push_back(std::move(r));
  }
  return EmbedRequest{true, json{{"requests", std::move(requests)}}};
}

json embeddingVectors(const json& response) {
  if (const json* single = member(response, "embedding")) {
    const json* values = member(*single, "values");
    if (values != nullptr && values->is_array()) {
      return json::array({*values});
    }
    return nullptr;
  }
  const json* many = member(response, "embeddings");
  if (many == nullptr || !many->is_array()) {
    return nullptr;
  }
  json out = json::array();
  for (const auto& item : *many) {
    const json* values = member(item, "values");
    if (values == nullptr || !values->is_array()) {
      return nullptr;
    }
    out.push_back(*values);
  }
  return out;
}

bool wantsBase64(const json* body) {
  return body != nullptr && stringMember(*body, "encoding_format") == "base64";
}

MappedResponse embeddingResponse(const json& vectors,
                                 std::string_view model,
                                 std::optional<long long> prompt_tokens,
                                 bool base64) {
  json data = json::array();
  std::size_t index = 0;
  for (const auto& vector : vectors) {
    json embedding = base64 && vector.is_array() ? json(openai::base64Floats(vector)) : vector;
    data.push_back(
        {{"object", "embedding"}, {"index", index++}, {"embedding", std::move(embedding)}});
  }
  const long long tokens = prompt_tokens.value_or(0);
  json list = {{"object", "list"},
               {"data", std::move(data)},
               {"model", model},
               {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  MappedResponse mapped{200, "application/json", list.dump()};
  if (prompt_tokens) {
    mapped.usage = Usage{.prompt_tokens = *prompt_tokens};
  }
  return mapped;
}

}  // namespace portico::providers::gemini
