// Every adapter's mapResponse on arbitrary upstream bodies, for every endpoint it supports. The
// forwarder catches std::exception around mapResponse (nlohmann's throwing accessors) and
// answers 502, so such a throw is fine here; a crash, a sanitizer report or any other exception
// is a finding. Like the conformance suite, a chat error status must survive the mapping and
// come back as JSON.
//
// The plain OpenAI-compatible adapters (some 50 table rows) share one mapResponse that depends on
// the row only through its id, so each input runs every other adapter and one such row, picked
// by the input's hash; all rows get their turn, and executions stay fast.
//
// Anthropic's chat answers have a text path beside the tree path (anthropicChatResponse takes
// it for text-only answers); whatever the text path writes must be what the tree path writes.
//
// Input: one selector byte, then the upstream body.
//   bits 0-2: status (200 201 400 401 404 429 500 503)
//   bits 3-4: content type (application/json, text/plain, text/event-stream, none)
//   bits 5-7: model named in the client request (fuzz_support.hpp kModels)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "anthropic/anthropic_adapter.hpp"
#include "fuzz_support.hpp"
#include "openai_compatible/openai_compatible_adapter.hpp"

namespace {

using namespace portico;

constexpr int kStatuses[] = {200, 201, 400, 401, 404, 429, 500, 503};
constexpr const char* kContentTypes[] = {"application/json", "text/plain", "text/event-stream", ""};

// requests[model][endpoint], built once: the client side does not vary.
const std::vector<std::unique_ptr<fuzz::RequestHolder>>& requests() {
  static const auto all = [] {
    std::vector<std::unique_ptr<fuzz::RequestHolder>> out;
    for (const char* model : fuzz::kModels) {
      for (Endpoint endpoint : fuzz::kEndpoints) {
        out.push_back(
            std::make_unique<fuzz::RequestHolder>(endpoint, model, false, fuzz::Usage::kAbsent));
      }
    }
    return out;
  }();
  return all;
}

std::size_t plainOpenAiCompatibleCount() {
  static const std::size_t count = [] {
    std::size_t n = 0;
    for (const auto& id : fuzz::registry().ids()) {
      const ProviderAdapter* adapter = fuzz::registry().find(id);
      n += typeid(*adapter) == typeid(providers::OpenAiCompatibleAdapter);
    }
    return n == 0 ? 1 : n;
  }();
  return count;
}

// The text path against the tree path, on the chat request for `model`.
void checkAnthropicTextPath(int status, std::string_view body, std::size_t model, bool strict) {
  const std::size_t chat =
      static_cast<std::size_t>(std::find(std::begin(fuzz::kEndpoints), std::end(fuzz::kEndpoints),
                                         Endpoint::kChatCompletions) -
                               std::begin(fuzz::kEndpoints));
  const ClientRequest& request = requests()[model * std::size(fuzz::kEndpoints) + chat]->request;
  const Target target = fuzz::fullTarget("anthropic", strict);
  const UpstreamReply reply{status, "application/json", std::string(body), {}};
  std::optional<MappedResponse> text;
  fuzz::noThrow("anthropicTextChatResponse", "anthropic", [&] {
    text = providers::anthropicTextChatResponse(request, target, reply, "anthropic");
  });
  if (!text) {
    return;
  }
  fuzz::noThrow("anthropicTreeChatResponse on a text answer", "anthropic", [&] {
    const MappedResponse tree =
        providers::anthropicTreeChatResponse(request, target, reply, "anthropic");
    fuzz::check(text->status == tree.status && text->body == tree.body && text->usage == tree.usage,
                "anthropic: the text path wrote another answer than the tree path", body);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const int status = kStatuses[data[0] & 7];
  const std::string content_type = kContentTypes[(data[0] >> 3) & 3];
  const std::size_t model = (data[0] >> 5) % fuzz::kModelCount;
  const std::string_view body = fuzz::asView(data + 1, size - 1);
  const std::uint64_t hash = fuzz::hashBytes(body);
  const bool strict = hash & 1;

  checkAnthropicTextPath(status, body, model, strict);

  const auto& registry = fuzz::registry();
  static const std::vector<std::string> ids = registry.ids();
  std::size_t plain_seen = 0;
  const std::size_t plain_pick = (hash >> 1) % plainOpenAiCompatibleCount();
  for (const auto& id : ids) {
    const ProviderAdapter* adapter = registry.find(id);
    if (typeid(*adapter) == typeid(providers::OpenAiCompatibleAdapter) &&
        plain_seen++ != plain_pick) {
      continue;
    }
    const Target target = fuzz::fullTarget(id, strict);
    for (std::size_t e = 0; e < std::size(fuzz::kEndpoints); ++e) {
      const Endpoint endpoint = fuzz::kEndpoints[e];
      if (!adapter->supports(endpoint)) {
        continue;
      }
      const ClientRequest& request = requests()[model * std::size(fuzz::kEndpoints) + e]->request;
      UpstreamReply reply{status, content_type, std::string(body), {}};
      if (!content_type.empty()) {
        reply.headers.emplace_back("content-type", content_type);
      }
      reply.headers.emplace_back("x-amzn-errortype", "ThrottlingException:http://internal/");
      MappedResponse mapped;
      bool mapped_ok = true;
      fuzz::noThrow("mapResponse (not a std::exception)", id, [&] {
        try {
          mapped = adapter->mapResponse(request, target, std::move(reply));
        } catch (const std::exception&) {
          mapped_ok = false;  // the forwarder's 502 "unexpected response"
        }
      });
      if (!mapped_ok) {
        continue;
      }
      if (endpoint == Endpoint::kChatCompletions && status >= 400) {
        fuzz::check(mapped.status == status, "mapResponse: a chat error status was changed", id);
        fuzz::check(nlohmann::json::accept(mapped.body), "mapResponse: a chat error is not JSON",
                    id);
      }
    }
  }
  return 0;
}
