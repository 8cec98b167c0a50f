#include "portico/request_framing.hpp"

#include <vector>

namespace portico {
namespace {

std::string_view trimmed(std::string_view s) {
  constexpr std::string_view kSpace = " \t";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

bool isChunked(std::string_view coding) {
  constexpr std::string_view kChunked = "chunked";
  if (coding.size() != kChunked.size()) {
    return false;
  }
  for (std::size_t i = 0; i < coding.size(); ++i) {
    const char c =
        coding[i] >= 'A' && coding[i] <= 'Z' ? static_cast<char>(coding[i] + 32) : coding[i];
    if (c != kChunked[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<FramingProblem> checkTransferEncoding(std::optional<std::string_view> value) {
  if (!value) {
    return std::nullopt;
  }
  std::vector<std::string_view> codings;
  for (std::string_view rest = *value;;) {
    const auto comma = rest.find(',');
    auto coding = trimmed(rest.substr(0, comma));
    if (!coding.empty()) {
      codings.push_back(coding);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  if (codings.empty() || !isChunked(codings.back())) {
    return FramingProblem{400, "Invalid Transfer-Encoding: the final coding must be chunked"};
  }
  if (codings.size() > 1) {
    return FramingProblem{501, "Unsupported Transfer-Encoding: only chunked is accepted"};
  }
  return std::nullopt;
}

}  // namespace portico
