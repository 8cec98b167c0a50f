#pragma once

#include <optional>

#include "http/answer_writer.hpp"
#include "portico/answer_facts.hpp"
#include "portico/usage.hpp"
#include "proxy/key_gate.hpp"
#include "proxy/reply.hpp"

namespace portico::proxy {

struct RelayOutcome {
  bool client_ok = true;       // the client connection can still be used
  bool stream_broken = false;  // the answer ended with an error event
  std::optional<Usage> usage;  // from the provider's final usage event, when it sent one
};

// Relays a 2xx upstream stream to the client, one read and one write at a time: translated by
// the reply's transformer, or as it comes (OpenAI SSE: only up to the last complete event, so an
// error after a break never lands inside half an event; [DONE] added when the upstream left it
// out). Hands a cleanly finished upstream connection back to the pool. A virtual key's ticket
// is settled with the stream's usage before the answer's last bytes, so the client's next
// request already sees what this one spent. `facts` (sampled traces only) learns the answer's
// id, model and finish reasons from the events the client gets.
Awaitable<RelayOutcome> relayStream(Reply& reply,
                                    edge::AnswerWriter& writer,
                                    std::string_view trace_id,
                                    KeyTicket* ticket = nullptr,
                                    AnswerFacts* facts = nullptr);

}  // namespace portico::proxy
