// The Responses and Messages API translations (src/apis) on hostile input: a client body into a
// chat body, a provider's chat answer and chat stream back. toChatRequest and errorFromChat must
// never throw; fromChatResponse and the streams may throw a std::exception (the gateway turns
// it into a 502 or an error event), anything else that escapes is a finding. A stream's output
// must be plain named SSE events with JSON data, the only format either API's clients read.
//
// Input: one selector byte, then the bytes.
//   bit 0: the Messages API (else Responses)
//   bits 1-2: 0 the bytes are a client body, 1 a chat answer, 2 a chat stream, 3 an error body
//   bit 3: the stream ends whole (finish(complete = true)), else it broke
#include <cstddef>
#include <cstdint>
#include <string>

#include "apis/messages_api.hpp"
#include "apis/responses_api.hpp"
#include "fuzz_support.hpp"
#include "portico/json_parse.hpp"
#include "portico/sse_parser.hpp"

namespace {

using namespace portico;
using nlohmann::json;

const json& clientBody(bool messages) {
  static const json kResponses =
      json::parse(R"({"model":"m","input":"hi","stream":true,"instructions":"x",
                      "tools":[{"type":"function","name":"f","parameters":{}}]})");
  static const json kMessages = json::parse(
      R"({"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
  return messages ? kMessages : kResponses;
}

void checkEvents(const std::string& out) {
  stream::SseParser parser;
  std::vector<stream::SseParser::Event> events;
  fuzz::check(parser.feed(out, events), "stream output: SseParser gave up");
  std::string canonical;
  for (const auto& event : events) {
    fuzz::check(!event.event.empty(), "stream output: an event without a name");
    fuzz::check(json::accept(event.data), "stream output: a payload is not JSON", event.data);
    canonical += "event: " + event.event + "\ndata: " + event.data + "\n\n";
  }
  fuzz::check(canonical == out, "stream output: not plain \"event: ...\\ndata: ...\\n\\n\"");
}

void translateBody(bool messages, std::string_view bytes) {
  const json body = parseJson(bytes);
  auto chat = messages ? apis::messages::toChatRequest(body) : apis::responses::toChatRequest(body);
  if (chat) {
    fuzz::check(chat->is_object() && (*chat)["messages"].is_array(),
                "toChatRequest: a chat body without messages");
    (void)chat->dump();
  } else {
    fuzz::check(chat.error().status == 400, "toChatRequest: an error other than 400");
  }
}

void translateAnswer(bool messages, std::string_view bytes) {
  const json chat = parseJson(bytes);
  if (!chat.is_object()) {
    return;  // the adapter answers 502 before translating
  }
  try {
    const json answer = messages ? apis::messages::fromChatResponse(chat, clientBody(true))
                                 : apis::responses::fromChatResponse(chat, clientBody(false));
    fuzz::check(answer.is_object(), "fromChatResponse: not an object");
    (void)answer.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception&) {
  }
}

void translateStream(bool messages, std::string_view bytes, bool complete) {
  auto stream = messages ? apis::messages::streamFromChat(clientBody(true), nullptr)
                         : apis::responses::streamFromChat(clientBody(false), nullptr);
  std::string out;
  try {
    for (std::string_view piece : fuzz::splitPieces(bytes, fuzz::hashBytes(bytes))) {
      stream->feed(piece, out);
    }
    stream->finish(complete, out);
  } catch (const std::exception&) {
    return;  // the relay ends the stream with its own error event
  }
  checkEvents(out);
  (void)stream->usage();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  const std::string_view bytes = fuzz::asView(data + 1, size - 1);
  const bool messages = (selector & 1) != 0;
  fuzz::noThrow("apis", bytes, [&] {
    switch ((selector >> 1) & 3) {
      case 0:
        translateBody(messages, bytes);
        break;
      case 1:
        translateAnswer(messages, bytes);
        break;
      case 2:
        translateStream(messages, bytes, (selector & 8) != 0);
        break;
      default: {
        const json error = apis::messages::errorFromChat(400 + (selector >> 4), bytes);
        fuzz::check(error["type"] == "error" && error["error"]["message"].is_string(),
                    "errorFromChat: not Anthropic's error shape");
      }
    }
  });
  return 0;
}
