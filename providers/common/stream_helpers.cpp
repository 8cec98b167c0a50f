#include "common/stream_helpers.hpp"

#include "portico/error.hpp"

namespace portico::providers {

using nlohmann::json;

std::string sseData(const json& payload) {
  return "data: " + payload.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

std::string sseDone() { return "data: [DONE]\n\n"; }

std::string sseError(std::string_view provider, std::string_view message, json type, json code) {
  return "event: error\n" + sseData(errors::providerError(500, provider, message, std::move(type),
                                                          nullptr, std::move(code))
                                        .body);
}

bool wantsIncludeUsage(const json* body) {
  if (body == nullptr || !body->is_object()) {
    return false;
  }
  auto options = body->find("stream_options");
  if (options == body->end() || !options->is_object()) {
    return false;
  }
  auto include = options->find("include_usage");
  return include != options->end() && include->is_boolean() && include->get<bool>();
}

long long unixSeconds(std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

json chatChunk(std::string_view id,
               std::string_view model,
               long long created,
               std::string_view provider) {
  json chunk = {
      {"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model}};
  if (!provider.empty()) {
    chunk["provider"] = provider;
  }
  chunk["choices"] = json::array();
  return chunk;
}

}  // namespace portico::providers
