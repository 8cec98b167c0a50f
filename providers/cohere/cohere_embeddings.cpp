// OpenAI embeddings <-> Cohere v2 embed.
#include <algorithm>
#include <string>

#include "cohere/cohere_adapter.hpp"
#include "cohere/cohere_mapping.hpp"
#include "portico/openai_wire.hpp"

namespace portico::providers {

using nlohmann::json;

Expected<json> toCohereEmbedBody(const json& body, const CohereSettings& settings) {
  json texts = json::array();
  const json input = body.value("input", json());
  if (input.is_string()) {
    texts.push_back(input);
  } else if (input.is_array() && !input.empty() &&
             std::all_of(input.begin(), input.end(), [](const json& v) { return v.is_string(); })) {
    texts = input;
  } else {
    return cohere::badRequest("embeddings input must be a string or an array of strings");
  }
  std::string input_type = body.value("input_type", "");
  if (input_type.empty()) {
    input_type = settings.input_type;
  }
  json out = {{"texts", std::move(texts)},
              {"input_type", input_type.empty() ? "search_document" : input_type},
              {"embedding_types", json::array({"float"})}};
  if (auto it = body.find("model"); it != body.end()) {
    out["model"] = *it;
  }
  if (auto it = body.find("dimensions"); it != body.end()) {
    out["output_dimension"] = *it;
  }
  if (auto it = body.find("truncate"); it != body.end()) {
    out["truncate"] = *it;
  }
  return out;
}

MappedResponse cohereEmbedResponse(const ClientRequest& request, const json& answer) {
  const json embeddings = answer.value("embeddings", json());
  const json vectors = embeddings.is_object() ? embeddings.value("float", json()) : embeddings;
  if (!vectors.is_array()) {
    return cohereInvalidResponse(200, answer.dump());
  }
  const bool as_base64 = openai::stringField(request.body, "encoding_format") == "base64";
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    json embedding = as_base64 ? json(openai::base64Floats(vectors[i])) : vectors[i];
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  long long tokens = 0;
  if (auto meta = answer.find("meta"); meta != answer.end() && meta->is_object()) {
    tokens =
        cohere::countOf(meta->value("billed_units", json::object()).value("input_tokens", json(0)));
  }
  json out = {{"object", "list"},
              {"data", std::move(data)},
              {"model", openai::stringField(request.body, "model")},
              {"provider", cohere::kId},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  Usage usage;
  usage.prompt_tokens = tokens;
  return MappedResponse{200, "application/json", out.dump(), usage};
}

}  // namespace portico::providers
