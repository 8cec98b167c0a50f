#include "portico/fast_json.hpp"

#include <memory>

#include "portico/json_parse.hpp"

namespace portico::fast_json {
namespace {

// simdjson reads up to SIMDJSON_PADDING bytes past the end of its input, so it parses a copy in
// a per-thread buffer that only grows.
struct ThreadParser {
  ThreadParser() {
    // On failure the first parse allocates instead.
    if (parser.allocate(4096, kMaxJsonDepth) != simdjson::SUCCESS) {
      return;
    }
  }
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
};

simdjson::simdjson_result<simdjson::dom::element> parseWith(ThreadParser& state,
                                                            std::string_view text) {
  const std::size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
  if (state.capacity < needed) {
    state.capacity = std::max(needed, 2 * state.capacity);
    state.buffer = std::make_unique<char[]>(state.capacity);
  }
  std::copy(text.begin(), text.end(), state.buffer.get());
  std::fill_n(state.buffer.get() + text.size(), simdjson::SIMDJSON_PADDING, '\0');
  return state.parser.parse(state.buffer.get(), text.size(), /*realloc_if_needed=*/false);
}

}  // namespace

simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view text) {
  thread_local ThreadParser state;
  return parseWith(state, text);
}

simdjson::simdjson_result<simdjson::dom::element> parseForTree(std::string_view text) {
  thread_local ThreadParser state;
  if (state.parser.max_depth() > kMaxJsonDepth) {
    return simdjson::DEPTH_ERROR;  // never sized (no memory then): parseJson's own scan decides
  }
  return parseWith(state, text);
}

}  // namespace portico::fast_json
