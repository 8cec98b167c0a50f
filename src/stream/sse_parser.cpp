#include "portico/sse_parser.hpp"

namespace portico::stream {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The first CR or LF in `text`, or npos. Two memchr scans: find_first_of looks each byte up in
// the set with a call of its own, which made it most of a relayed chunk's cost.
std::size_t findLineEnd(std::string_view text) {
  const std::size_t lf = text.find('\n');
  const std::size_t cr = text.substr(0, lf).find('\r');
  return cr != std::string_view::npos ? cr : lf;
}

}  // namespace

SseParser::SseParser(std::size_t max_buffered) : max_buffered_(max_buffered) {}

bool SseParser::feed(std::string_view bytes, std::vector<Event>& out) {
  if (broken_) return false;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    // Only the new bytes are scanned, so many tiny feeds stay linear overall.
    const char* begin = bytes.data() + pos;
    std::size_t rest = bytes.size() - pos;
    // The scan stops at the first terminator, so a chunk with many lines stays linear.
    const std::size_t found = findLineEnd(std::string_view(begin, rest));
    const char* end = found == std::string_view::npos ? nullptr : begin + found;
    if (end == nullptr) {
      if (line_.size() + rest + data_.size() > max_buffered_) {
        broken_ = true;
        line_.clear();
        data_.clear();
        return false;
      }
      line_.append(begin, rest);
      break;
    }
    std::string_view piece(begin, static_cast<std::size_t>(end - begin));
    if (line_.empty()) {
      processLine(piece, out);
    } else {
      line_.append(piece);
      processLine(line_, out);
      line_.clear();
    }
    if (*end == '\r') skip_lf_ = true;
    pos = static_cast<std::size_t>(end - bytes.data()) + 1;
  }
  if (line_.size() + data_.size() > max_buffered_) {
    broken_ = true;
    line_.clear();
    data_.clear();
    return false;
  }
  return true;
}

bool SseParser::takeWholeEvent(std::string_view& bytes,
                               std::string_view& name,
                               std::string_view& data) {
  constexpr std::string_view kEvent = "event: ";
  constexpr std::string_view kData = "data: ";
  if (!line_.empty() || has_data_ || !event_.empty() || skip_lf_ || broken_) {
    return false;
  }
  std::string_view rest = bytes;
  std::string_view event_name;
  if (rest.starts_with(kEvent)) {
    const std::size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) {
      return false;
    }
    event_name = rest.substr(kEvent.size(), lf - kEvent.size());
    rest.remove_prefix(lf + 1);
  }
  if (!rest.starts_with(kData)) {
    return false;
  }
  const std::size_t lf = rest.find('\n');
  if (lf == std::string_view::npos || lf + 1 >= rest.size() || rest[lf + 1] != '\n') {
    return false;
  }
  const std::string_view value = rest.substr(kData.size(), lf - kData.size());
  // A CR ends a line too; the parser's rules then apply.
  if (value.find('\r') != std::string_view::npos ||
      event_name.find('\r') != std::string_view::npos) {
    return false;
  }
  at_start_ = false;  // the stream has started: no BOM comes first any more
  name = event_name;
  data = value;
  bytes.remove_prefix(static_cast<std::size_t>(rest.data() - bytes.data()) + lf + 2);
  return true;
}

void SseParser::finish(std::vector<Event>& out) {
  if (broken_) return;
  if (!line_.empty()) {
    std::string line = std::move(line_);
    line_.clear();
    processLine(line, out);
  }
  dispatch(out);
  skip_lf_ = false;
}

void SseParser::processLine(std::string_view line, std::vector<Event>& out) {
  if (at_start_) {
    at_start_ = false;
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') return;  // comment, e.g. ": ping" keep-alives

  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    // The spec ignores ids containing NUL.
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  }
  // "retry" and unknown fields are ignored: reconnection is not ours to drive.
}

void SseParser::dispatch(std::vector<Event>& out) {
  if (has_data_ || !event_.empty()) {
    out.push_back(Event{std::move(event_), std::move(data_), last_id_});
  }
  event_.clear();
  data_.clear();
  has_data_ = false;
}

}  // namespace portico::stream
