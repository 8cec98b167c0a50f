#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string_view>

namespace portico::fast_json {

// Documents up to this size are read by simdjson where a tree or an answer is built from them
// (half the time of nlohmann's parser for a chat body); the thread's simdjson buffers keep the
// size of the largest document read, so bigger ones go to nlohmann.
inline constexpr std::size_t kTreeMaxBytes = 256 * 1024;

// Parses `text` with simdjson (validating it whole, UTF-8 included, nesting bounded by
// kMaxJsonDepth) into the calling thread's parser: the element is valid until this thread's
// next parse. For the per-chunk and per-answer checks of the hot path, where building an
// nlohmann tree would cost an allocation per member.
simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view text);

// The same with a second per-thread parser, for parseJson's trees: building one never ends the
// life of an element a caller holds from parse().
simdjson::simdjson_result<simdjson::dom::element> parseForTree(std::string_view text);

}  // namespace portico::fast_json
