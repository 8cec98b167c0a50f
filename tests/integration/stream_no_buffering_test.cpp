// The stream relay neither buffers nor writes half an event, however the upstream splits its
// events: for every split point k of an upstream body, the fake upstream sends bytes [0, k) as
// one write and holds the rest until the test has seen, through the gateway, every event those
// bytes complete. A relay that waits for more (or for the end) times out here; one that writes
// what it has regardless writes a piece that does not end at an event boundary.
//
// The client side reads the raw wire and keeps the HTTP chunk framing: each chunk is one write
// of the gateway, so "no write ends inside an event" is checked exactly, not through whatever
// way TCP and a client's buffer happen to cut the bytes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/fake_upstream.hpp"
#include "support/gate.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How long the test waits for events the gateway must already have sent. A buffering relay
// fails by this timeout; a correct one answers in milliseconds.
constexpr auto kPromptly = std::chrono::seconds(5);
// How long a whole answer may take once the upstream is let go.
constexpr auto kToTheEnd = std::chrono::seconds(10);

// The offsets right after each event in `bytes`: after each blank line, with the SSE spec's line
// endings (CRLF, LF, CR). A CR at the very end already ends its line (a following LF belongs to
// it), as it does for a streaming SSE parser.
std::vector<std::size_t> eventEnds(std::string_view bytes) {
  std::vector<std::size_t> ends;
  std::size_t line_start = 0;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const char c = bytes[i];
    if (c != '\r' && c != '\n') {
      ++i;
      continue;
    }
    std::size_t next = i + 1;
    if (c == '\r' && next < bytes.size() && bytes[next] == '\n') {
      ++next;
    }
    if (i == line_start) {
      ends.push_back(next);  // an empty line: the event before it is complete
    }
    line_start = next;
    i = next;
  }
  return ends;
}

// The longest prefix of `bytes` made of whole events.
std::string_view wholeEvents(std::string_view bytes) {
  const auto ends = eventEnds(bytes);
  return bytes.substr(0, ends.empty() ? 0 : ends.back());
}

bool endsAtEventBoundary(std::string_view bytes) {
  return wholeEvents(bytes).size() == bytes.size();
}

// The first `n` events of `bytes`.
std::string_view firstEvents(std::string_view bytes, std::size_t n) {
  if (n == 0) {
    return {};
  }
  const auto ends = eventEnds(bytes);
  return bytes.substr(0, n <= ends.size() ? ends[n - 1] : bytes.size());
}

// A printable form of bytes with CR and LF in them, for failure messages.
std::string visible(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Opens the gate when the scope ends, so that a failing check never leaves the upstream blocked.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

// What the fake upstream sends next: its body as separate writes; a write after the first is
// held until `gate` opens (when there is one).
class UpstreamScript {
 public:
  void set(std::vector<std::string> writes, std::shared_ptr<Gate> gate) {
    std::lock_guard lock(mutex_);
    writes_ = std::move(writes);
    gate_ = std::move(gate);
  }
  FakeResponse answer() {
    std::lock_guard lock(mutex_);
    FakeResponse response = FakeResponse::sse(writes_);
    if (gate_) {
      response.before_chunk = [gate = gate_](std::size_t index) {
        if (index == 1) {
          gate->waitOpen(std::chrono::seconds(20));
        }
      };
    }
    return response;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> writes_;
  std::shared_ptr<Gate> gate_;
};

// A streamed answer read off the raw socket, one HTTP chunk (one gateway write) at a time.
class WireStream {
 public:
  WireStream(unsigned short port,
             const std::string& target,
             const Headers& headers,
             const std::string& body) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) {
      throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      const std::string error = std::strerror(errno);
      ::close(fd_);
      throw std::runtime_error("connect: " + error);
    }
    std::string request = "POST " + target + " HTTP/1.1\r\nhost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) {
      request += name + ": " + value + "\r\n";
    }
    request += "content-type: application/json\r\nconnection: close\r\ncontent-length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        ::close(fd_);
        throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      }
      sent += static_cast<std::size_t>(n);
    }
  }
  ~WireStream() { ::close(fd_); }
  WireStream(const WireStream&) = delete;
  WireStream& operator=(const WireStream&) = delete;

  // The payload of the next HTTP chunk, or nullopt after the last one. Throws at `deadline`.
  std::optional<std::string> nextChunk(Clock::time_point deadline) {
    readHead(deadline);
    if (ended_) {
      return std::nullopt;
    }
    const std::string size_line = takeLine(deadline);
    const std::size_t size = std::stoul(size_line.substr(0, size_line.find(';')), nullptr, 16);
    if (size == 0) {
      while (!takeLine(deadline).empty()) {
        // trailers
      }
      ended_ = true;
      return std::nullopt;
    }
    while (buffer_.size() < size + 2) {
      fill(deadline);
    }
    if (buffer_.compare(size, 2, "\r\n") != 0) {
      throw std::runtime_error("bad chunk framing");
    }
    std::string payload = buffer_.substr(0, size);
    buffer_.erase(0, size + 2);
    return payload;
  }

 private:
  void readHead(Clock::time_point deadline) {
    if (head_read_) {
      return;
    }
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      fill(deadline);
    }
    std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    head_read_ = true;
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!head.starts_with("http/1.1 200 ")) {
      throw std::runtime_error("the answer is not a 200: " + head + buffer_);
    }
    if (head.find("\r\ntransfer-encoding: chunked\r\n") == std::string::npos ||
        head.find("\r\ncontent-type: text/event-stream") == std::string::npos) {
      throw std::runtime_error("not a chunked event stream: " + head);
    }
  }

  std::string takeLine(Clock::time_point deadline) {
    std::size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) {
      fill(deadline);
    }
    std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    return line;
  }

  // Reads at least one more byte, waiting until `deadline` at most.
  void fill(Clock::time_point deadline) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        throw std::runtime_error("timed out waiting for the gateway");
      }
      pollfd entry{fd_, POLLIN, 0};
      const int ready = ::poll(&entry, 1, static_cast<int>(left.count()) + 1);
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (ready <= 0) {
        continue;  // the deadline check above ends it
      }
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw std::runtime_error("the gateway closed the connection mid-answer");
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return;
    }
  }

  int fd_ = -1;
  std::string buffer_;
  bool head_read_ = false;
  bool ended_ = false;
};

// What one request saw.
struct Seen {
  std::string before_gate;          // the body received before the gate opened
  std::string body;                 // the whole body
  std::vector<std::string> writes;  // the gateway's writes (HTTP chunks), in order
};

// Sends one request whose upstream holds its second write behind `gate`. First reads until the
// body holds `events_before_gate` whole events (none: reads nothing), then opens the gate and
// reads to the end. Fails when a gateway write does not end at an event boundary, or when the
// events do not come within kPromptly.
::testing::AssertionResult relayThroughGate(unsigned short port,
                                            const Headers& headers,
                                            const std::string& request,
                                            Gate& gate,
                                            std::size_t events_before_gate,
                                            Seen& seen) {
  OpenOnExit open_on_exit{gate};
  seen = {};
  bool gate_open = false;
  try {
    WireStream stream(port, "/v1/chat/completions", headers, request);
    const auto take = [&](Clock::time_point deadline) {
      auto write = stream.nextChunk(deadline);
      if (write) {
        seen.writes.push_back(*write);
        seen.body += *write;
        if (!gate_open) {
          seen.before_gate += *write;
        }
      }
      return write.has_value();
    };
    const auto early = Clock::now() + kPromptly;
    while (eventEnds(seen.body).size() < events_before_gate) {
      if (!take(early)) {
        return ::testing::AssertionFailure()
               << "the answer ended before the gate opened, after \"" << visible(seen.body) << "\"";
      }
      if (!endsAtEventBoundary(seen.body)) {
        return ::testing::AssertionFailure()
               << "a write ends inside an event: \"" << visible(seen.writes.back())
               << "\" (body so far \"" << visible(seen.body) << "\")";
      }
    }
    gate_open = true;
    gate.open();
    const auto late = Clock::now() + kToTheEnd;
    while (take(late)) {
      if (!endsAtEventBoundary(seen.body)) {
        return ::testing::AssertionFailure()
               << "a write ends inside an event: \"" << visible(seen.writes.back())
               << "\" (body so far \"" << visible(seen.body) << "\")";
      }
    }
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << e.what() << (gate_open ? " after the gate opened" : " before the gate opened")
           << "; wanted " << events_before_gate << " events before the gate, had \""
           << visible(seen.body) << "\"";
  }
  return ::testing::AssertionSuccess();
}

// Reads a whole answer whose upstream sends `upstream_body` in one write (no gate).
::testing::AssertionResult relayWhole(unsigned short port,
                                      const Headers& headers,
                                      const std::string& request,
                                      UpstreamScript& script,
                                      const std::string& upstream_body,
                                      Seen& seen) {
  auto gate = std::make_shared<Gate>();
  gate->open();
  script.set({upstream_body}, gate);
  return relayThroughGate(port, headers, request, *gate, 0, seen);
}

// The client asks for the usage chunk itself, so the gateway relays the upstream's bytes as they
// are (it holds only a partial event back).
const std::string kByteRelayRequest =
    R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},)"
    R"("messages":[{"role":"user","content":"Hi"}]})";
// Without include_usage the gateway asks the upstream for usage and relays event by event,
// dropping what the client did not ask for.
const std::string kUsageRelayRequest =
    R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})";

std::string openAiChunk(const std::string& text) {
  return json{{"id", "c1"},
              {"object", "chat.completion.chunk"},
              {"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}}
      .dump();
}

Headers openAiHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "openai"},
          {"x-portkey-api-key", "sk-test"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
}

// For every k in 1..|body|-1 the upstream sends body[0, k), then, once the client holds the
// whole events in it, body[k, |body|). The client must get exactly those events before the
// gate opens, every write must end at an event boundary, and the body must arrive unchanged.
void expectByteRelaySplitAtEveryByte(const std::string& upstream_body) {
  auto script = std::make_shared<UpstreamScript>();
  FakeUpstream upstream([script](const RecordedRequest&) { return script->answer(); });
  upstream.setNoDelay(true);
  TestGateway gateway;
  const Headers headers = openAiHeaders(upstream);
  Seen seen;
  ASSERT_TRUE(relayWhole(gateway.port(), headers, kByteRelayRequest, *script, upstream_body, seen));
  ASSERT_EQ(seen.body, upstream_body);
  for (std::size_t k = 1; k < upstream_body.size(); ++k) {
    const std::string head = upstream_body.substr(0, k);
    const std::string_view expected_early = wholeEvents(head);
    auto gate = std::make_shared<Gate>();
    script->set({head, upstream_body.substr(k)}, gate);
    auto result = relayThroughGate(gateway.port(), headers, kByteRelayRequest, *gate,
                                   eventEnds(expected_early).size(), seen);
    if (!result) {
      ADD_FAILURE() << "split at " << k << " (after \"" << visible(head)
                    << "\"): " << result.message();
      return;  // one split's failure says it; the others would only repeat it
    }
    if (seen.before_gate != expected_early) {
      ADD_FAILURE() << "split at " << k << ": before the rest was sent the client had \""
                    << visible(seen.before_gate) << "\", wanted \"" << visible(expected_early)
                    << "\"";
      return;
    }
    if (seen.body != upstream_body) {
      ADD_FAILURE() << "split at " << k << ": the client got \"" << visible(seen.body)
                    << "\", wanted \"" << visible(upstream_body) << "\"";
      return;
    }
  }
}

// LF, CRLF and CR line ends, a comment-only event (a keep-alive), an event of several fields,
// and [DONE].
TEST(StreamNoBuffering, OpenAiByteRelaySplitAtEveryByte) {
  const std::string body = "data: " + openAiChunk("Hel") + "\n\n" +  //
                           ": keep-alive\n\n" +                      //
                           "data: " + openAiChunk("lo") + "\r\n\r\n" +
                           "id: 7\revent: message\rdata: " + openAiChunk("!") + "\r\r" +
                           "data: [DONE]\n\n";
  expectByteRelaySplitAtEveryByte(body);
}

// A stream framed with CRLF throughout, [DONE] included.
TEST(StreamNoBuffering, OpenAiByteRelayWithCrLfSplitAtEveryByte) {
  const std::string body = "data: " + openAiChunk("Hel") + "\r\n\r\n" +  //
                           ": keep-alive\r\n\r\n" +                      //
                           "data: " + openAiChunk("lo") + "\r\n\r\n" +   //
                           "data: [DONE]\r\n\r\n";
  expectByteRelaySplitAtEveryByte(body);
}

// ---- Streams the gateway rewrites event by event ----------------------------------------------

struct UpstreamEvent {
  std::string text;
  std::size_t client_events;  // how many events the gateway makes of it
};

// The data of each event in `body`, which must be made of "data: ...\n\n" events only.
std::vector<std::string> dataOf(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end : eventEnds(body)) {
    const std::string event = body.substr(start, end - start);
    EXPECT_TRUE(event.starts_with("data: ") && event.ends_with("\n\n")) << visible(event);
    out.push_back(event.substr(6, event.size() - 8));
    start = end;
  }
  EXPECT_EQ(start, body.size()) << visible(body);
  return out;
}

// Chunks carry the request's time; the rest of a translated stream is the same every time.
std::string withoutTime(const std::string& body) {
  static const std::regex created(R"("created":\d+)");
  return std::regex_replace(body, created, R"("created":0)");
}

// For every k in 1..|body|-1 the upstream sends body[0, k), then holds the rest until the client
// holds what the gateway makes of the whole upstream events in body[0, k). Those client events
// must be the first ones of the answer to the unsplit stream (`check_reference` looks at that
// answer's data), every write must end at an event boundary, and the whole answer must be the
// same for every k.
void expectRewrittenSplitAtEveryByte(
    const std::vector<UpstreamEvent>& events,
    const std::function<Headers(const FakeUpstream&)>& headers_for,
    const std::string& request,
    const std::function<void(const std::vector<std::string>&)>& check_reference) {
  std::string upstream_body;
  std::vector<std::size_t> client_events_after = {0};  // after the first i upstream events
  for (const auto& event : events) {
    upstream_body += event.text;
    client_events_after.push_back(client_events_after.back() + event.client_events);
  }
  ASSERT_EQ(eventEnds(upstream_body).size(), events.size());

  auto script = std::make_shared<UpstreamScript>();
  FakeUpstream upstream([script](const RecordedRequest&) { return script->answer(); });
  upstream.setNoDelay(true);
  TestGateway gateway;
  const Headers headers = headers_for(upstream);

  Seen seen;
  ASSERT_TRUE(relayWhole(gateway.port(), headers, request, *script, upstream_body, seen));
  const std::string reference = withoutTime(seen.body);
  const std::vector<std::string> data = dataOf(reference);
  ASSERT_EQ(data.size(), client_events_after.back()) << visible(reference);
  check_reference(data);
  if (::testing::Test::HasFailure()) {
    return;
  }

  for (std::size_t k = 1; k < upstream_body.size(); ++k) {
    const std::string head = upstream_body.substr(0, k);
    const std::size_t wanted = client_events_after[eventEnds(head).size()];
    auto gate = std::make_shared<Gate>();
    script->set({head, upstream_body.substr(k)}, gate);
    auto result = relayThroughGate(gateway.port(), headers, request, *gate, wanted, seen);
    if (!result) {
      ADD_FAILURE() << "split at " << k << " (after \"" << visible(head)
                    << "\"): " << result.message();
      return;
    }
    const std::string early = withoutTime(seen.before_gate);
    if (early != firstEvents(reference, wanted)) {
      ADD_FAILURE() << "split at " << k << ": before the rest was sent the client had \""
                    << visible(early) << "\", wanted \"" << visible(firstEvents(reference, wanted))
                    << "\"";
      return;
    }
    if (withoutTime(seen.body) != reference) {
      ADD_FAILURE() << "split at " << k << ": the client got \"" << visible(seen.body)
                    << "\", wanted \"" << visible(reference) << "\"";
      return;
    }
  }
}

std::string anthropicEvent(const std::string& name, const json& data, const char* eol = "\n") {
  return "event: " + name + eol + "data: " + data.dump() + eol + eol;
}

std::string textDelta(const std::string& text, const char* eol = "\n") {
  return anthropicEvent("content_block_delta",
                        {{"type", "content_block_delta"},
                         {"index", 0},
                         {"delta", {{"type", "text_delta"}, {"text", text}}}},
                        eol);
}

std::string anthropicStart() {
  return anthropicEvent("message_start",
                        {{"type", "message_start"},
                         {"message",
                          {{"id", "msg_1"},
                           {"type", "message"},
                           {"role", "assistant"},
                           {"model", "claude-x"},
                           {"usage", {{"input_tokens", 3}, {"output_tokens", 1}}}}}});
}

// content_block_stop, message_delta, message_stop.
std::string anthropicEnd() {
  return anthropicEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}) +
         anthropicEvent("message_delta", {{"type", "message_delta"},
                                          {"delta", {{"stop_reason", "end_turn"}}},
                                          {"usage", {{"output_tokens", 2}}}}) +
         anthropicEvent("message_stop", {{"type", "message_stop"}});
}

Headers anthropicHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "anthropic"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
          {"authorization", "Bearer sk-ant-test"}};
}

const std::string kAnthropicRequest = R"({"model":"claude-x","stream":true,"max_tokens":64,)"
                                      R"("messages":[{"role":"user","content":"Hi"}]})";

// An Anthropic stream translated for an OpenAI chat-completions client.
TEST(StreamNoBuffering, TranslatedAnthropicStreamSplitAtEveryByte) {
  const std::vector<UpstreamEvent> events = {
      {anthropicStart(), 1},  // the role chunk
      {anthropicEvent("content_block_start", {{"type", "content_block_start"},
                                              {"index", 0},
                                              {"content_block", {{"type", "text"}, {"text", ""}}}}),
       0},
      {textDelta("Hel"), 1},
      {anthropicEvent("ping", {{"type", "ping"}}, "\r\n"), 0},
      {textDelta("lo", "\r\n"), 1},
      {anthropicEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}), 0},
      {anthropicEvent("message_delta", {{"type", "message_delta"},
                                        {"delta", {{"stop_reason", "end_turn"}}},
                                        {"usage", {{"output_tokens", 2}}}}),
       1},                                                              // the finishing chunk
      {anthropicEvent("message_stop", {{"type", "message_stop"}}), 1},  // [DONE]
  };
  expectRewrittenSplitAtEveryByte(
      events, anthropicHeaders, kAnthropicRequest, [](const std::vector<std::string>& data) {
        EXPECT_EQ(json::parse(data[0])["choices"][0]["delta"]["role"], "assistant");
        EXPECT_EQ(json::parse(data[1])["choices"][0]["delta"]["content"], "Hel");
        EXPECT_EQ(json::parse(data[2])["choices"][0]["delta"]["content"], "lo");
        EXPECT_EQ(json::parse(data[3])["choices"][0]["finish_reason"], "stop");
        EXPECT_EQ(data[4], "[DONE]");
        for (std::size_t i = 0; i + 1 < data.size(); ++i) {
          EXPECT_EQ(json::parse(data[i])["id"], "msg_1");
        }
      });
}

// An OpenAI stream whose usage the gateway asked for on its own: relayed event by event, the
// keep-alive and the usage chunk left out.
TEST(StreamNoBuffering, OpenAiUsageRelaySplitAtEveryByte) {
  json with_null_usage = json::parse(openAiChunk("lo"));
  with_null_usage["usage"] = nullptr;
  const json usage_chunk = {
      {"id", "c1"},
      {"object", "chat.completion.chunk"},
      {"choices", json::array()},
      {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 2}, {"total_tokens", 5}}}};
  const std::vector<UpstreamEvent> events = {
      {"data: " + openAiChunk("Hel") + "\n\n", 1},
      {": keep-alive\n\n", 0},
      {"data: " + with_null_usage.dump() + "\r\n\r\n", 1},
      {"data: " + usage_chunk.dump() + "\n\n", 0},
      {"data: [DONE]\n\n", 1},
  };
  expectRewrittenSplitAtEveryByte(events, openAiHeaders, kUsageRelayRequest,
                                  [](const std::vector<std::string>& data) {
                                    EXPECT_EQ(data[0], openAiChunk("Hel"));
                                    EXPECT_EQ(data[1], openAiChunk("lo"));
                                    EXPECT_EQ(data[2], "[DONE]");
                                  });
}

// ---- Many events in one upstream write --------------------------------------------------------

// Twenty events in one upstream write all reach the client before the upstream sends more, each
// whole, and (the relay writes what it has at once) in one write.
TEST(StreamNoBuffering, ManyEventsInOneUpstreamWriteComeOutWholeAndAtOnce) {
  constexpr int kEvents = 20;
  std::string burst;
  for (int i = 1; i <= kEvents; ++i) {
    burst += "data: " + json{{"n", i}}.dump() + "\n\n";
  }
  auto script = std::make_shared<UpstreamScript>();
  FakeUpstream upstream([script](const RecordedRequest&) { return script->answer(); });
  upstream.setNoDelay(true);
  TestGateway gateway;
  auto gate = std::make_shared<Gate>();
  script->set({burst, "data: [DONE]\n\n"}, gate);
  Seen seen;
  ASSERT_TRUE(relayThroughGate(gateway.port(), openAiHeaders(upstream), kByteRelayRequest, *gate,
                               kEvents, seen));
  ASSERT_EQ(seen.before_gate, burst);
  const auto data = dataOf(seen.before_gate);
  ASSERT_EQ(data.size(), static_cast<std::size_t>(kEvents));
  for (int i = 1; i <= kEvents; ++i) {
    EXPECT_EQ(json::parse(data[i - 1])["n"], i);
  }
  // Loopback delivers the upstream's one small write (~330 bytes) in one read, and the relay
  // has no reason to cut it: one write to the client, then [DONE].
  EXPECT_EQ(seen.writes.size(), 2u);
  EXPECT_EQ(seen.writes[0], burst);
  EXPECT_EQ(seen.body, burst + "data: [DONE]\n\n");
}

// The same through the Anthropic translator: the role chunk and twenty content chunks before the
// upstream sends its end. (That write is ~2.5 KB, which the gateway may read in more than one
// piece, so the number of its writes is not checked.)
TEST(StreamNoBuffering, ManyTranslatedEventsInOneUpstreamWriteComeOutWhole) {
  constexpr int kDeltas = 20;
  std::string burst = anthropicStart();
  for (int i = 1; i <= kDeltas; ++i) {
    burst += textDelta("w" + std::to_string(i));
  }
  auto script = std::make_shared<UpstreamScript>();
  FakeUpstream upstream([script](const RecordedRequest&) { return script->answer(); });
  upstream.setNoDelay(true);
  TestGateway gateway;
  auto gate = std::make_shared<Gate>();
  script->set({burst, anthropicEnd()}, gate);
  Seen seen;
  ASSERT_TRUE(relayThroughGate(gateway.port(), anthropicHeaders(upstream), kAnthropicRequest, *gate,
                               1 + kDeltas, seen));
  const auto data = dataOf(withoutTime(seen.before_gate));
  ASSERT_EQ(data.size(), static_cast<std::size_t>(1 + kDeltas)) << visible(seen.before_gate);
  EXPECT_EQ(json::parse(data[0])["choices"][0]["delta"]["role"], "assistant");
  for (int i = 1; i <= kDeltas; ++i) {
    EXPECT_EQ(json::parse(data[i])["choices"][0]["delta"]["content"], "w" + std::to_string(i));
  }
  const auto all = dataOf(withoutTime(seen.body));
  ASSERT_EQ(all.size(), static_cast<std::size_t>(1 + kDeltas + 2));  // the finish, [DONE]
  EXPECT_EQ(json::parse(all[1 + kDeltas])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(all.back(), "[DONE]");
}

}  // namespace
}  // namespace portico::testing
