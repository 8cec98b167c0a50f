#include "openai_compatible/x_groq_usage_stream.hpp"

#include <vector>

#include "portico/json_parse.hpp"
#include "portico/openai_wire.hpp"
#include "portico/sse_parser.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

class XGroqUsageTransformer : public StreamTransformer {
 public:
  XGroqUsageTransformer(std::string provider, bool include_usage)
      : provider_(std::move(provider)), include_usage_(include_usage) {}

  void feed(std::string_view bytes, std::string& out) override {
    if (ended_) {
      return;
    }
    events_.clear();
    if (!parser_.feed(bytes, events_)) {
      fail("an event is too large", out);
      return;
    }
    relay(out);
  }

  void finish(bool complete, std::string& out) override {
    if (ended_) {
      return;
    }
    if (!complete) {
      fail("the stream broke", out);
      return;
    }
    events_.clear();
    parser_.finish(events_);
    relay(out);
    if (include_usage_ && !native_usage_ && !stashed_usage_.is_null()) {
      json chunk = last_chunk_.is_object() ? last_chunk_ : json::object();
      chunk.erase("x_groq");
      chunk["choices"] = json::array();
      chunk["usage"] = std::move(stashed_usage_);
      out += openai::sseData(chunk);
    }
    out += openai::sseDone();
    ended_ = true;
  }

  std::optional<Usage> usage() const override { return usage_; }

 private:
  void relay(std::string& out) {
    for (auto& event : events_) {
      if (event.data == "[DONE]") {
        continue;  // sent by finish(), after a usage chunk if one is due
      }
      json chunk = parseJson(event.data);
      if (!chunk.is_object()) {
        continue;  // not a chunk an OpenAI client could read
      }
      if (!event.event.empty()) {
        out += "event: " + event.event + "\n";
      }
      if (auto usage = chunk.find("usage"); usage != chunk.end() && !usage->is_null()) {
        native_usage_ = true;
        usage_ = usageFromOpenAi(*usage);
      }
      const json* x_usage = nullptr;
      if (auto x = chunk.find("x_groq"); x != chunk.end() && x->is_object()) {
        if (auto u = x->find("usage"); u != x->end() && u->is_object()) {
          x_usage = &*u;
        }
      }
      if (x_usage != nullptr && !native_usage_) {
        usage_ = usageFromOpenAi(*x_usage);
        if (include_usage_) {
          stashed_usage_ = *x_usage;
        } else {
          chunk["usage"] = *x_usage;
          native_usage_ = true;
        }
      }
      out += openai::sseData(chunk);
      last_chunk_ = {{"id", chunk.value("id", "")},
                     {"object", chunk.value("object", "chat.completion.chunk")},
                     {"created", chunk.value("created", 0)},
                     {"model", chunk.value("model", "")}};
    }
  }

  void fail(std::string_view message, std::string& out) {
    out += openai::sseError(provider_, message);
    ended_ = true;
  }

  std::string provider_;
  bool include_usage_;
  stream::SseParser parser_;
  std::vector<stream::SseParser::Event> events_;
  bool native_usage_ = false;  // a chunk already carried `usage`
  json stashed_usage_;         // x_groq.usage, for the final usage chunk
  json last_chunk_;            // id, object, created, model of the latest chunk
  bool ended_ = false;
  std::optional<Usage> usage_;  // what the client is told, for the gateway
};

}  // namespace

std::unique_ptr<StreamTransformer> makeXGroqUsageTransformer(std::string provider,
                                                             bool include_usage) {
  return std::make_unique<XGroqUsageTransformer>(std::move(provider), include_usage);
}

}  // namespace portico::providers
