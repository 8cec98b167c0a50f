#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace portico::stream {

// Incremental text/event-stream parser following the WHATWG "event stream interpretation" rules.
//
// Choices where the spec leaves room or where upstreams bend it:
// - `event` is left empty when no `event:` field was seen (the spec's implicit "message").
// - `id` is the last event id seen on the stream (it persists across events, as in the spec).
// - An event with an `event:` name but no `data:` line is dispatched with empty data, because
//   Anthropic sends `event: ping` style frames that callers may want to see. An event with
//   neither is dropped.
// - `retry:` and unknown fields are ignored; a leading UTF-8 BOM is skipped.
class SseParser {
 public:
  struct Event {
    std::string event;
    std::string data;
    std::string id;
    bool operator==(const Event&) const = default;
  };

  explicit SseParser(std::size_t max_buffered = 8 << 20);

  // Consumes bytes (split anywhere, even inside a CRLF) and appends each event completed by a
  // blank line to `out`. Returns false once the buffered incomplete data (partial line plus data
  // of the event being built) exceeds max_buffered; the parser then stays broken.
  bool feed(std::string_view bytes, std::vector<Event>& out);

  // At end of stream: flushes a final unterminated line and dispatches an event that lacks the
  // trailing blank line (lenient: real upstreams do this). Resets per-event state.
  void finish(std::vector<Event>& out);

  bool broken() const { return broken_; }

  // An event of the usual form taken in place from the front of `bytes`: `data: ` and one
  // line, optionally after an `event: ` line, then a blank line. Only while this parser holds
  // nothing (no partial line, no event being built, no CR waiting for its LF); anything else
  // (more lines, ids, comments, CRs, a part of an event) is left to feed(), and false returned
  // with `bytes` untouched. The views point into `bytes`; no id is given (such an event does
  // not change the stream's last id). Callers take what they can this way and feed() the
  // rest: feed() copies every event into strings of its own.
  bool takeWholeEvent(std::string_view& bytes, std::string_view& name, std::string_view& data);

 private:
  void processLine(std::string_view line, std::vector<Event>& out);
  void dispatch(std::vector<Event>& out);

  std::size_t max_buffered_;
  std::string line_;  // bytes of the current, not yet terminated line
  std::string event_;
  std::string data_;
  std::string last_id_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the previous line ended in '\r'; a following '\n' belongs to it
  bool at_start_ = true;  // nothing processed yet: a BOM may still appear
  bool broken_ = false;
};

}  // namespace portico::stream
