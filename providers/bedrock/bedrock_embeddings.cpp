// Embeddings through InvokeModel: Titan and Cohere bodies, their answers, and Titan's
// one-input-per-call fan-out.
#include <cstdint>
#include <utility>

#include "bedrock/bedrock_adapter.hpp"
#include "bedrock/bedrock_detail.hpp"
#include "common/request_helpers.hpp"
#include "portico/json_parse.hpp"

namespace portico::providers::bedrock {

using nlohmann::json;

namespace {

using detail::badRequest;
using detail::kProvider;
using detail::stringField;

// OpenAI's input (a string or an array of strings) as texts.
Expected<std::vector<std::string>> inputTexts(const json& body) {
  auto input = body.find("input");
  if (input == body.end()) {
    return badRequest("input is required");
  }
  std::vector<std::string> texts;
  if (input->is_string()) {
    texts.push_back(input->get<std::string>());
  } else if (input->is_array()) {
    for (const auto& item : *input) {
      if (!item.is_string()) {
        return badRequest("embedding input must be text (token arrays are not supported)");
      }
      texts.push_back(item.get<std::string>());
    }
  } else {
    return badRequest("input must be a string or an array of strings");
  }
  if (texts.empty()) {
    return badRequest("input must not be empty");
  }
  return texts;
}

Expected<json> titanBody(const json& body, std::vector<std::string> texts) {
  if (texts.size() != 1) {
    return badRequest("Titan embedding models take one input per request; send " +
                      std::to_string(texts.size()) + " requests, or use a cohere.embed model");
  }
  json out = {{"inputText", std::move(texts.front())}};
  if (auto it = body.find("dimensions"); it != body.end() && it->is_number_integer()) {
    out["dimensions"] = *it;
  }
  return out;
}

// Titan answers {"embedding":[...]}; Cohere a list of vectors, or {"float": [...]} when
// embedding_types was given.
json embedVectors(const json& upstream) {
  if (!upstream.is_object()) return json::array();
  if (auto it = upstream.find("embedding"); it != upstream.end() && it->is_array()) {
    return json::array({*it});
  }
  auto e = upstream.find("embeddings");
  if (e == upstream.end()) return json::array();
  if (e->is_array()) return *e;
  if (e->is_object() && e->contains("float") && (*e)["float"].is_array()) return (*e)["float"];
  return json::array();
}

// Titan's inputTextTokenCount; Cohere's answer carries no count.
std::optional<std::int64_t> inputTokenCount(const json& upstream) {
  if (!upstream.is_object()) return std::nullopt;
  auto it = upstream.find("inputTextTokenCount");
  if (it == upstream.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

}  // namespace

Expected<json> toEmbedBody(const json& body, ModelFamily family, std::string_view model) {
  auto texts = inputTexts(body);
  if (!texts) {
    return texts.error();
  }
  if (family == ModelFamily::kTitanEmbed) {
    return titanBody(body, std::move(*texts));
  }
  if (family == ModelFamily::kCohereEmbed) {
    std::string input_type = stringField(body, "input_type");
    return json{{"texts", std::move(*texts)},
                {"input_type", input_type.empty() ? "search_document" : input_type}};
  }
  return badRequest(
      "embeddings are supported for amazon.titan-embed-* and cohere.embed-* "
      "models, not '" +
      std::string(model) + "'");
}

Expected<json> fromEmbedResponse(const json& upstream, std::string_view model) {
  json vectors = embedVectors(upstream);
  if (vectors.empty()) {
    return detail::invalidResponse(upstream.dump());
  }
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vectors[i]}});
  }
  const std::int64_t tokens = inputTokenCount(upstream).value_or(0);
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"model", model},
              {"provider", kProvider},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

std::optional<Usage> embedUsage(const json& upstream) {
  auto tokens = inputTokenCount(upstream);
  if (!tokens) return std::nullopt;
  Usage out;
  out.prompt_tokens = *tokens;
  return out;
}

std::vector<json> splitEmbedRequest(const json& body, ModelFamily family) {
  if (family != ModelFamily::kTitanEmbed || !body.is_object()) {
    return {};
  }
  auto input = body.find("input");
  if (input == body.end() || !input->is_array() || input->size() < 2) {
    return {};
  }
  std::vector<json> parts;
  parts.reserve(input->size());
  for (const auto& item : *input) {
    if (!item.is_string()) {
      return {};  // the request itself explains what Titan takes
    }
    json part = body;
    part["input"] = item;
    parts.push_back(std::move(part));
  }
  return parts;
}

MappedResponse joinEmbedResponses(std::vector<MappedResponse> parts, std::string_view model) {
  json data = json::array();
  std::int64_t tokens = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    json answer = parseJson(parts[i].body);
    if (!answer.is_object() || !answer.contains("data") || !answer["data"].is_array() ||
        answer["data"].empty()) {
      return fromError(errors::providerError(502, kProvider, "Invalid embedding answer"));
    }
    json item = std::move(answer["data"][0]);
    item["index"] = i;
    data.push_back(std::move(item));
    if (auto usage = answer.find("usage"); usage != answer.end() && usage->is_object()) {
      tokens += usage->value("prompt_tokens", std::int64_t{0});
    }
  }
  json joined = {{"object", "list"},
                 {"data", std::move(data)},
                 {"model", model},
                 {"provider", kProvider},
                 {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  MappedResponse out{200, "application/json", joined.dump()};
  out.usage = Usage{};
  out.usage->prompt_tokens = tokens;
  return out;
}

}  // namespace portico::providers::bedrock
