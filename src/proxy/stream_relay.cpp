#include "proxy/stream_relay.hpp"

#include <spdlog/spdlog.h>

#include "portico/openai_wire.hpp"
#include "stream/sse_framing.hpp"

namespace portico::proxy {
namespace {

// The longest SSE event a relay waits for before it calls the stream broken.
constexpr std::size_t kMaxPartialEventBytes = 8 * 1024 * 1024;

bool isEventStreamType(std::string_view content_type) {
  return mediaType(content_type) == "text/event-stream";
}

// Turns upstream pieces into client bytes. One per relayed stream.
class RelayState {
 public:
  explicit RelayState(Reply& reply)
      : reply_(reply),
        hold_partial_events_(!reply.transformer && isEventStreamType(reply.content_type)) {}

  // The client bytes for one upstream piece (`done`: it was the last). False: the stream broke.
  bool onPiece(std::string& piece, bool done, std::string& out);
  // The client bytes after the upstream broke with `detail`.
  void onBreak(const std::string& detail, std::string& out);
  std::optional<Usage> usage() const {
    return reply_.transformer ? reply_.transformer->usage() : usage_;
  }

 private:
  bool translate(std::string_view piece, bool done, std::string& out);
  void holdPartialEvents(bool done, std::string& out);

  Reply& reply_;
  const bool hold_partial_events_;
  std::string partial_;
  stream::EventBoundaryScanner boundaries_;
  std::optional<Usage> usage_;  // the last usage a relayed OpenAI stream carried
  bool saw_done_ = false;       // the last event written was data: [DONE]
};

bool RelayState::onPiece(std::string& piece, bool done, std::string& out) {
  if (reply_.transformer) {
    return translate(piece, done, out);
  }
  if (!hold_partial_events_) {
    out.swap(piece);
    return true;
  }
  partial_ += piece;
  if (partial_.size() > kMaxPartialEventBytes) {
    onBreak("an event is too large", out);
    return false;
  }
  holdPartialEvents(done, out);
  return true;
}

// Adapters may use nlohmann's throwing accessors; an upstream event of the wrong shape lands
// here as an exception, and the stream then ends with an error event, not a cut connection.
bool RelayState::translate(std::string_view piece, bool done, std::string& out) {
  try {
    reply_.transformer->feed(piece, out);
    if (done) {
      reply_.transformer->finish(true, out);
    }
    return true;
  } catch (const std::exception&) {
    spdlog::warn("stream from {} could not be translated", reply_.provider);
    out += openai::sseError(reply_.provider, "the upstream sent an event of the wrong shape");
    return false;
  }
}

void RelayState::holdPartialEvents(bool done, std::string& out) {
  const std::size_t complete = done ? partial_.size() : boundaries_.scan(partial_);
  if (complete == partial_.size()) {
    out.swap(partial_);
    partial_.clear();
    boundaries_ = {};
  } else {
    out.assign(partial_, 0, complete);
    partial_.erase(0, complete);
    boundaries_.consumed(complete);
  }
  if (out.find("\"usage\"") != std::string::npos) {
    if (auto usage = findOpenAiUsage(out)) {
      usage_ = usage;
    }
  }
  // A piece that only finishes the blank line of the event before it (the LF after a CR) says
  // nothing about whether that event was [DONE].
  if (out.find_first_not_of("\r\n") != std::string::npos) {
    saw_done_ = stream::endsWithDoneEvent(out);
  }
  if (done && reply_.openai_stream && !saw_done_) {
    // OpenAI's streams end with [DONE] and clients wait for it; some compatible upstreams
    // (perplexity) just stop.
    if (stream::completeEventsLength(out) != out.size()) {
      out += "\n\n";
    }
    out += openai::sseDone();
  }
}

void RelayState::onBreak(const std::string& detail, std::string& out) {
  out.clear();
  if (reply_.transformer) {
    try {
      reply_.transformer->finish(false, out);
      return;
    } catch (const std::exception&) {
      out.clear();
    }
  }
  out = openai::sseError(reply_.provider, "the stream broke: " + detail);
}

}  // namespace

Awaitable<RelayOutcome> relayStream(Reply& reply,
                                    edge::AnswerWriter& writer,
                                    std::string_view trace_id,
                                    KeyTicket* ticket,
                                    AnswerFacts* facts) {
  RelayOutcome outcome;
  if (!co_await writer.writeStreamHead(reply.status, reply.content_type, reply.headers)) {
    outcome.client_ok = false;
    co_return outcome;
  }
  RelayState state(reply);
  std::string piece = std::move(reply.first_bytes);  // read before answering
  std::string out;
  for (bool prefetched = true;; prefetched = false) {
    out.clear();
    std::optional<upstream::Failure> failure;
    if (!prefetched) {
      piece.clear();
      failure = co_await reply.stream->readSome(piece);
    }
    if (failure && failure->kind == upstream::FailureKind::kCancelled) {
      outcome.client_ok = false;
      co_return outcome;
    }
    if (failure) {
      spdlog::warn("stream from {} broke: {} (trace {})", reply.provider, failure->detail,
                   trace_id);
      state.onBreak(failure->detail, out);
      outcome.stream_broken = true;
    } else if (!state.onPiece(piece, reply.stream->done(), out)) {
      outcome.stream_broken = true;
    }
    if (facts != nullptr) {
      facts->takeFromEvents(out);
    }
    if (outcome.stream_broken || reply.stream->done()) {
      break;  // `out` goes with the end, below
    }
    if (!co_await writer.writeChunk(out)) {
      outcome.client_ok = false;  // dropping the exchange closes the upstream
      co_return outcome;
    }
  }
  outcome.usage = state.usage();
  if (ticket != nullptr) {
    ticket->settle(outcome.usage, reply.model);
  }
  reply.stream.reset();  // hands a cleanly finished connection back to the pool
  // The client's answer is complete either way, so a broken upstream does not cost the client
  // its keep-alive connection.
  outcome.client_ok = co_await writer.writeLastChunk(out);
  co_return outcome;
}

}  // namespace portico::proxy
