// Helpers shared by the fuzz targets: deterministic splitting of an input into pieces, a
// failure check that works in any build, and the provider fixtures (registry, targets, request
// bodies) the conformance suite uses (tests/providers/conformance_test.cpp).
#pragma once

#include <boost/crc.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "portico/config.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/endpoint.hpp"
#include "portico/provider_adapter.hpp"
#include "portico/provider_registry.hpp"
#include "portico/target.hpp"

namespace portico::fuzz {

// A property the target checks failed: report it (with what it was about) and abort, which
// libFuzzer records as a crash with the reproducer. Independent of NDEBUG, unlike assert().
[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %s", what);
  if (!detail.empty()) {
    std::fprintf(stderr, " [%.*s]", static_cast<int>(detail.size()), detail.data());
  }
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    fail(what, detail);
  }
}

// What the target is running, for the terminate handler's report.
struct Context {
  const char* where = "";
  std::string_view detail;
};
inline Context current_context;

// An exception that escapes is a finding: the code under test has no try/catch around it in the
// server, so the session (or the relay) would end by exception. It is left uncaught on purpose:
// with no handler, std::terminate runs before unwinding and the crash stack still shows the
// throw site. This handler adds what was running and the exception's message.
[[noreturn]] inline void reportEscapedException() {
  std::fprintf(stderr, "fuzz property violated: an exception escaped %s [%.*s]",
               current_context.where, static_cast<int>(current_context.detail.size()),
               current_context.detail.data());
  if (auto error = std::current_exception()) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, ": %s", e.what());
    } catch (...) {
      std::fprintf(stderr, ": not a std::exception");
    }
  }
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
  std::abort();
}
inline const std::terminate_handler previous_terminate_handler =
    std::set_terminate(reportEscapedException);

// Runs `body` with `where`/`detail` recorded for reportEscapedException.
template <class F>
void noThrow(const char* where, std::string_view detail, F&& body) {
  const Context saved = current_context;
  current_context = Context{where, detail};
  body();
  current_context = saved;
}

inline std::string_view asView(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// FNV-1a: split points derive from the bytes themselves, so every input (and its reproducer)
// always splits the same way while any mutation also tries new split points.
inline std::uint64_t hashBytes(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  }
  return h;
}

// splitmix64: small, good enough to spread split points.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

// Cuts `bytes` into consecutive pieces (their concatenation is `bytes`), in one of several
// styles picked by the seed: byte by byte, short or long random pieces (with an occasional empty
// one), or a single cut. Byte-by-byte finds state carried across a boundary (CRLF, a frame
// prelude); a single cut at any position finds the rest.
inline std::vector<std::string_view> splitPieces(std::string_view bytes, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string_view> out;
  const std::size_t style = rng.below(5);
  if (style == 4) {
    const std::size_t cut = rng.below(bytes.size() + 1);
    out.push_back(bytes.substr(0, cut));
    out.push_back(bytes.substr(cut));
    return out;
  }
  const std::size_t max_piece = style == 0 ? 1 : style == 1 ? 4 : style == 2 ? 32 : 512;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (style != 0 && rng.below(8) == 0) {
      out.push_back(bytes.substr(pos, 0));
    }
    const std::size_t n = 1 + rng.below(max_piece);
    out.push_back(bytes.substr(pos, n));
    pos += n;
  }
  return out;
}

// Rewrites the prelude and message CRCs of every AWS event-stream frame in `bytes` whose
// lengths are plausible, so the fuzzer gets past the CRCs to the header and payload parsing
// (random bytes almost never carry a valid CRC-32).
inline void repairEventStreamCrcs(std::string& bytes) {
  auto crc32 = [](const char* p, std::size_t n) {
    boost::crc_32_type crc;
    crc.process_bytes(p, n);
    return crc.checksum();
  };
  auto get = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    }
    return v;
  };
  auto put = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      bytes[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
    }
  };
  std::size_t pos = 0;
  while (bytes.size() - pos >= 12) {
    const std::uint32_t total = get(pos);
    put(pos + 8, crc32(bytes.data() + pos, 8));
    if (total < 16 || total > bytes.size() - pos) {
      return;
    }
    put(pos + total - 4, crc32(bytes.data() + pos, total - 4));
    pos += total;
  }
}

// The built-in providers, as the server registers them.
inline const ProviderRegistry& registry() {
  static const ProviderRegistry r = [] {
    ProviderRegistry out;
    registerBuiltinProviders(out);
    return out;
  }();
  return r;
}

inline const CustomHostPolicy& defaultHostPolicy() {
  static const CustomHostPolicy policy;
  return policy;
}

// The options the server hands the config and route-context parsers (src/server/server.cpp).
inline ConfigParseOptions configOptions() {
  ConfigParseOptions options;
  options.provider_ids = registry().ids();
  options.provider_aliases = registry().aliases();
  options.settings = registry().settingsCatalog();
  options.is_valid_custom_host = [](std::string_view url) {
    return defaultHostPolicy().isAllowed(url);
  };
  return options;
}

// Serialises JSON the way the forwarder does (invalid UTF-8 replaced, never a throw).
inline std::string dumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Dumps every JSON value of a parsed config tree (walked without recursion, so a deep tree is
// the parser's problem, not this walker's), as the forwarder and cache do when they re-serialise.
inline std::size_t dumpConfigTree(const ConfigNode& root) {
  std::size_t bytes = 0;
  auto dump = [&](const nlohmann::json& value) { bytes += dumpJson(value).size(); };
  std::vector<const ConfigNode*> pending{&root};
  while (!pending.empty()) {
    const ConfigNode* node = pending.back();
    pending.pop_back();
    dump(node->override_params);
    dump(node->provider_options);
    for (const auto& condition : node->conditions) {
      dump(condition.query);
    }
    for (const auto& child : node->targets) {
      pending.push_back(&child);
    }
  }
  return bytes;
}

// A target with every provider's settings filled in, so each adapter gets past its own checks
// (as fullTarget() in the conformance suite).
inline Target fullTarget(const std::string& provider, bool strict) {
  Target target;
  target.provider = provider;
  target.api_key = "key-123";
  target.custom_host = "http://127.0.0.1:9";
  target.options = {{"aws_access_key_id", "AKIDEXAMPLE"},
                    {"aws_secret_access_key", "secret"},
                    {"aws_region", "us-east-1"},
                    {"vertex_project_id", "proj"},
                    {"vertex_region", "us-central1"},
                    {"resource_name", "res"},
                    {"deployment_id", "dep"},
                    {"api_version", "2024-10-21"}};
  target.strict_open_ai_compliance = strict;
  return target;
}

// Models that send each adapter down its different paths (Bedrock and Vertex families,
// embedding models, plain OpenAI-style names).
inline constexpr const char* kModels[] = {"gpt-4o-mini",
                                          "anthropic.claude-3-haiku-20240307-v1:0",
                                          "claude-3-5-sonnet@20240620",
                                          "gemini-1.5-pro",
                                          "meta.llama3-8b-instruct-v1:0",
                                          "command-r-plus",
                                          "amazon.titan-embed-text-v2:0",
                                          "cohere.embed-english-v3"};
inline constexpr std::size_t kModelCount = sizeof(kModels) / sizeof(kModels[0]);

inline constexpr Endpoint kEndpoints[] = {Endpoint::kChatCompletions, Endpoint::kCompletions,
                                          Endpoint::kEmbeddings, Endpoint::kMessages,
                                          Endpoint::kPassthrough};

// What a streamed request says in stream_options.include_usage. Clients send anything, so a
// value of the wrong type is one of the cases.
enum class Usage { kAbsent, kTrue, kNotBoolean };

// A small valid client body for `endpoint` (the conformance suite's chat body for chat).
inline nlohmann::json requestBody(Endpoint endpoint, const char* model, bool stream, Usage usage) {
  using nlohmann::json;
  json body;
  switch (endpoint) {
    case Endpoint::kEmbeddings:
      return {{"model", model}, {"input", {"hi", "there"}}};
    case Endpoint::kCompletions:
      body = {{"model", model}, {"prompt", "hi"}, {"max_tokens", 16}};
      break;
    case Endpoint::kResponses:
      body = {{"model", model}, {"input", "hi"}, {"max_output_tokens", 16}};
      break;
    case Endpoint::kMessages:
      body = {{"model", model},
              {"max_tokens", 16},
              {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
      break;
    case Endpoint::kChatCompletions:
    case Endpoint::kPassthrough:
      body = {{"model", model},
              {"max_tokens", 16},
              {"messages",
               {{{"role", "system"}, {"content", "be brief"}},
                {{"role", "user"}, {"content", "hi"}},
                {{"role", "assistant"},
                 {"content", nullptr},
                 {"tool_calls",
                  {{{"id", "call_1"},
                    {"type", "function"},
                    {"function", {{"name", "f"}, {"arguments", "{\"a\":1}"}}}}}}},
                {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "42"}}}},
              {"tools",
               {{{"type", "function"},
                 {"function", {{"name", "f"}, {"parameters", {{"type", "object"}}}}}}}}};
      break;
  }
  body["stream"] = stream;
  if (stream && usage == Usage::kTrue) {
    body["stream_options"] = {{"include_usage", true}};
  } else if (stream && usage == Usage::kNotBoolean) {
    body["stream_options"] = {{"include_usage", "yes"}};
  }
  return body;
}

// A ClientRequest with everything it points at (headers, body, raw bytes); not movable, since
// the request points into the holder.
struct RequestHolder {
  HeaderList headers;
  nlohmann::json body;
  std::string raw;
  ClientRequest request;

  RequestHolder(Endpoint endpoint, const char* model, bool stream, Usage usage)
      : body(requestBody(endpoint, model, stream, usage)), raw(body.dump()) {
    request.endpoint = endpoint;
    switch (endpoint) {
      case Endpoint::kChatCompletions:
        request.path = "/chat/completions";
        break;
      case Endpoint::kCompletions:
        request.path = "/completions";
        break;
      case Endpoint::kEmbeddings:
        request.path = "/embeddings";
        break;
      case Endpoint::kMessages:
        request.path = "/messages";
        break;
      case Endpoint::kResponses:
        request.path = "/responses";
        break;
      case Endpoint::kPassthrough:
        request.path = "/files";
        break;
    }
    headers = {{"content-type", "application/json"}};
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
    request.stream = stream;
    // Fixed, so that a reproducer replays exactly.
    request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  }
  RequestHolder(const RequestHolder&) = delete;
  RequestHolder& operator=(const RequestHolder&) = delete;
};

}  // namespace portico::fuzz
