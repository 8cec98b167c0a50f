#include "openai_compatible/usage_relay_stream.hpp"

#include <optional>
#include <string_view>
#include <vector>

#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers {
namespace {

// What include_usage puts at the end of every chunk but the usage one.
constexpr std::string_view kNullUsage = ",\"usage\":null}";

// The chunk without the `,"usage":null` that ends it, when it has one.
std::string_view withoutNullUsage(std::string_view data) {
  if (data.ends_with(kNullUsage)) {
    data.remove_suffix(kNullUsage.size());
    return data;  // the caller adds the closing brace back
  }
  return {};
}

// Whether a chunk may carry a usage object. Most end with `"usage":null`, which says no; a search
// for the key's first character, a quote, would stop at every key of the chunk.
bool mentionsUsage(std::string_view data) {
  if (data.ends_with(kNullUsage)) {
    return false;
  }
  constexpr std::string_view kKey = "usage\"";
  for (std::size_t at = data.find(kKey); at != std::string_view::npos;
       at = data.find(kKey, at + 1)) {
    if (at > 0 && data[at - 1] == '"') {
      return true;
    }
  }
  return false;
}

class UsageRelayStream final : public StreamTransformer {
 public:
  explicit UsageRelayStream(std::string provider) : provider_(std::move(provider)) {}

  void feed(std::string_view bytes, std::string& out) override {
    if (ended_) {
      return;
    }
    bytes = relayWholeEvents(bytes, out);
    if (ended_ || bytes.empty()) {
      return;
    }
    events_.clear();
    const bool ok = parser_.feed(bytes, events_);
    relay(out);
    if (!ok && !ended_) {
      fail("an event is too large", out);
    }
  }

  void finish(bool complete, std::string& out) override {
    if (ended_) {
      return;
    }
    if (!complete) {
      fail("the upstream stream was interrupted", out);
      return;
    }
    events_.clear();
    parser_.finish(events_);  // a last event without its blank line
    relay(out);
    if (!saw_done_) {
      out += openai::sseDone();  // OpenAI's streams end with [DONE] and clients wait for it
    }
    ended_ = true;
  }

  std::optional<Usage> usage() const override { return usage_; }

 private:
  // The events the parser would only copy are relayed in place; the rest goes to the parser.
  std::string_view relayWholeEvents(std::string_view bytes, std::string& out) {
    std::string_view name;
    std::string_view data;
    while (!ended_ && parser_.takeWholeEvent(bytes, name, data)) {
      relayEvent(name, data, out);
    }
    return bytes;
  }

  void relay(std::string& out) {
    for (const auto& event : events_) {
      relayEvent(event.event, event.data, out);
      if (ended_) {
        return;
      }
    }
  }

  void relayEvent(std::string_view name, std::string_view data, std::string& out) {
    if (data.empty()) {
      return;  // keep-alives and named frames without data
    }
    saw_done_ = data == "[DONE]";
    if (saw_done_) {
      out += openai::sseDone();
      ended_ = true;  // the stream is over for the client, whatever the upstream sends next
      return;
    }
    if (keep(data)) {
      write(name, data, out);
    }
  }

  // Whether a chunk goes to the client; records its usage. Only the usage chunk (once per
  // stream) is parsed whole: it is dropped when its choices are empty, the one the client did
  // not ask for.
  bool keep(std::string_view data) {
    if (!isJson(data)) {
      return false;  // not a chunk an OpenAI client can read
    }
    if (!mentionsUsage(data)) {
      return true;
    }
    auto usage = findOpenAiUsage(data);
    if (!usage) {
      return true;
    }
    usage_ = usage;
    const nlohmann::json chunk = parseJson(data);
    auto choices = chunk.find("choices");
    return !(choices != chunk.end() && choices->is_array() && choices->empty());
  }

  static void write(std::string_view name, std::string_view data, std::string& out) {
    const std::string_view stripped = withoutNullUsage(data);
    if (stripped.empty()) {
      openai::appendSseEvent(name, data, out);
    } else {
      openai::appendSseEvent(name, stripped, out);
      out.insert(out.size() - 2, 1, '}');  // the brace the stripped member ended with
    }
  }

  void fail(std::string_view message, std::string& out) {
    out += openai::sseError(provider_, message);
    ended_ = true;
  }

  std::string provider_;
  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  bool saw_done_ = false;  // the last event relayed was data: [DONE]
  bool ended_ = false;
  std::optional<Usage> usage_;
};

}  // namespace

std::unique_ptr<StreamTransformer> makeUsageRelayStream(std::string provider) {
  return std::make_unique<UsageRelayStream>(std::move(provider));
}

}  // namespace portico::providers
