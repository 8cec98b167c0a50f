#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/messages_api.hpp"

namespace portico::apis::messages {
namespace {

using nlohmann::json;

const json kRequest = {{"model", "claude-sonnet-4-5"}, {"max_tokens", 100}, {"stream", true}};

std::string sse(const json& chunk) { return "data: " + chunk.dump() + "\n\n"; }

json chunk(json delta, json finish_reason = nullptr) {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion.chunk"},
          {"created", 1700000000},
          {"model", "gpt-4o-2024-08-06"},
          {"choices",
           {{{"index", 0},
             {"delta", std::move(delta)},
             {"logprobs", nullptr},
             {"finish_reason", std::move(finish_reason)}}}}};
}

json usageChunk(int prompt, int completion, int cached = -1) {
  json usage = {{"prompt_tokens", prompt},
                {"completion_tokens", completion},
                {"total_tokens", prompt + completion}};
  if (cached >= 0) {
    usage["prompt_tokens_details"] = {{"cached_tokens", cached}};
  }
  json out = chunk(nullptr);
  out["choices"] = json::array();
  out["usage"] = usage;
  return out;
}

json toolDelta(int index, json id, json name, std::string arguments) {
  json call = {{"index", index}, {"function", {{"arguments", std::move(arguments)}}}};
  if (!id.is_null()) {
    call["id"] = id;
    call["type"] = "function";
    call["function"]["name"] = name;
  }
  return {{"tool_calls", {call}}};
}

const std::string kTextStream =
    sse(chunk({{"role", "assistant"}, {"content", ""}})) + sse(chunk({{"content", "Hel"}})) +
    sse(chunk({{"content", "lo ✓"}})) + sse(chunk(json::object(), "stop")) +
    sse(usageChunk(10, 2)) + "data: [DONE]\n\n";

const std::string kToolStream =
    sse(chunk({{"role", "assistant"}, {"content", nullptr}})) +
    sse(chunk({{"content", "Checking."}})) + sse(chunk(toolDelta(0, "call_a", "get_weather", ""))) +
    sse(chunk(toolDelta(0, nullptr, nullptr, "{\"ci"))) +
    sse(chunk(toolDelta(0, nullptr, nullptr, "ty\": \"Par"))) +
    sse(chunk(toolDelta(0, nullptr, nullptr, "is\"}"))) +
    sse(chunk(toolDelta(1, "call_b", "get_time", "{\"tz\":"))) +
    sse(chunk(toolDelta(1, nullptr, nullptr, "\"CET\"}"))) +
    sse(chunk(json::object(), "tool_calls")) + sse(usageChunk(100, 30, 60)) + "data: [DONE]\n\n";

const std::string kReasoningStream =
    sse(chunk({{"role", "assistant"}, {"content", ""}})) +
    sse(chunk({{"reasoning_content", "Think"}})) + sse(chunk({{"reasoning_content", "ing."}})) +
    sse(chunk({{"content", "Answer"}})) + sse(chunk(json::object(), "length")) +
    sse(usageChunk(7, 9)) + "data: [DONE]\n\n";

struct Event {
  std::string type;
  json data;
};

// Anthropic's SSE, strictly: "event: <type>\ndata: <json whose type is <type>>\n\n" only.
std::vector<Event> parse(const std::string& text) {
  std::vector<Event> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event: " << text.substr(pos);
    if (end == std::string::npos) {
      break;
    }
    const std::string event = text.substr(pos, end - pos);
    const auto newline = event.find('\n');
    EXPECT_TRUE(event.starts_with("event: ")) << event;
    EXPECT_NE(newline, std::string::npos) << event;
    if (newline == std::string::npos) {
      break;
    }
    const std::string type = event.substr(7, newline - 7);
    const std::string data_line = event.substr(newline + 1);
    EXPECT_TRUE(data_line.starts_with("data: ")) << event;
    const json data = json::parse(data_line.substr(6));
    EXPECT_EQ(data["type"], type) << event;
    out.push_back({type, data});
    pos = end + 2;
  }
  return out;
}

std::vector<std::string> types(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& event : events) {
    out.push_back(event.type);
  }
  return out;
}

// What the Anthropic SDK's MessageStream builds from the events: the message snapshot from
// message_start, blocks pushed by content_block_start and updated by index, stop reason and
// usage from message_delta, and the tool input parsed from the joined partial_json.
json accumulate(const std::vector<Event>& events) {
  json message;
  std::vector<std::string> json_buffers;
  for (const auto& [type, data] : events) {
    if (type == "message_start") {
      EXPECT_TRUE(message.is_null()) << "second message_start";
      message = data["message"];
      continue;
    }
    EXPECT_FALSE(message.is_null()) << type << " before message_start";
    if (type == "content_block_start") {
      EXPECT_EQ(data["index"], message["content"].size());
      message["content"].push_back(data["content_block"]);
      json_buffers.emplace_back();
    } else if (type == "content_block_delta") {
      const std::size_t index = data["index"];
      json& block = message["content"].at(index);
      const json& delta = data["delta"];
      if (delta["type"] == "text_delta") {
        EXPECT_EQ(block["type"], "text");
        block["text"] = block["text"].get<std::string>() + delta["text"].get<std::string>();
      } else if (delta["type"] == "thinking_delta") {
        EXPECT_EQ(block["type"], "thinking");
        block["thinking"] =
            block["thinking"].get<std::string>() + delta["thinking"].get<std::string>();
      } else if (delta["type"] == "input_json_delta") {
        EXPECT_EQ(block["type"], "tool_use");
        json_buffers[index] += delta["partial_json"].get<std::string>();
      } else {
        ADD_FAILURE() << "unknown delta " << delta.dump();
      }
    } else if (type == "message_delta") {
      message["stop_reason"] = data["delta"]["stop_reason"];
      message["stop_sequence"] = data["delta"]["stop_sequence"];
      for (const auto& [key, value] : data["usage"].items()) {
        message["usage"][key] = value;
      }
    }
  }
  for (std::size_t i = 0; i < json_buffers.size(); ++i) {
    if (!json_buffers[i].empty()) {
      message["content"][i]["input"] = json::parse(json_buffers[i]);
    }
  }
  return message;
}

std::string run(const std::vector<std::string_view>& pieces, bool complete = true) {
  auto stream = streamFromChat(kRequest, nullptr);
  std::string out;
  for (auto piece : pieces) {
    stream->feed(piece, out);
  }
  stream->finish(complete, out);
  return out;
}

// The message id is random; the rest must be the same whatever the split.
std::string withoutIds(std::string text) {
  constexpr std::size_t kIdLength = 4 + 32;  // "msg_" and 32 hex digits
  for (auto pos = text.find("\"msg_"); pos != std::string::npos; pos = text.find("\"msg_", pos)) {
    text.replace(pos + 1, kIdLength, "msg_ID");
    pos += 1;
  }
  return text;
}

// One-shot output, checked to equal the output of the stream split at every byte.
std::string everySplit(const std::string& chat) {
  const std::string whole = run({chat});
  const std::string expected = withoutIds(whole);
  for (std::size_t cut = 0; cut <= chat.size(); ++cut) {
    const std::string_view view = chat;
    const std::string split = run({view.substr(0, cut), view.substr(cut)});
    const std::string actual = withoutIds(split);
    EXPECT_EQ(actual, expected) << "split at " << cut;
    if (actual != expected) {
      break;  // one report is enough
    }
  }
  return whole;
}

TEST(MessagesStream, TextStream) {
  const auto events = parse(everySplit(kTextStream));
  EXPECT_EQ(types(events),
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta",
                                      "message_stop"}));
  const json& start = events[0].data["message"];
  EXPECT_EQ(start["id"].get<std::string>().rfind("msg_", 0), 0u);
  EXPECT_EQ(start["type"], "message");
  EXPECT_EQ(start["role"], "assistant");
  EXPECT_EQ(start["model"], "gpt-4o-2024-08-06");
  EXPECT_EQ(start["content"], json::array());
  EXPECT_TRUE(start["stop_reason"].is_null());
  EXPECT_TRUE(start.contains("stop_sequence"));
  EXPECT_EQ(start["usage"], json({{"input_tokens", 0}, {"output_tokens", 0}}));
  EXPECT_EQ(events[1].data, json({{"type", "content_block_start"},
                                  {"index", 0},
                                  {"content_block", {{"type", "text"}, {"text", ""}}}}));
  EXPECT_EQ(events[2].data, json({{"type", "content_block_delta"},
                                  {"index", 0},
                                  {"delta", {{"type", "text_delta"}, {"text", "Hel"}}}}));
  EXPECT_EQ(events[4].data, json({{"type", "content_block_stop"}, {"index", 0}}));
  EXPECT_EQ(events[5].data,
            json({{"type", "message_delta"},
                  {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                  {"usage",
                   {{"input_tokens", 10},
                    {"output_tokens", 2},
                    {"cache_read_input_tokens", 0},
                    {"cache_creation_input_tokens", 0}}}}));
  const json message = accumulate(events);
  EXPECT_EQ(message["content"], json::array({{{"type", "text"}, {"text", "Hello ✓"}}}));
  EXPECT_EQ(message["stop_reason"], "end_turn");
}

TEST(MessagesStream, ToolCallStreamWithSplitArguments) {
  const auto events = parse(everySplit(kToolStream));
  EXPECT_EQ(types(events), (std::vector<std::string>{
                               "message_start", "content_block_start", "content_block_delta",
                               "content_block_stop", "content_block_start", "content_block_delta",
                               "content_block_delta", "content_block_delta", "content_block_stop",
                               "content_block_start", "content_block_delta", "content_block_delta",
                               "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(events[4].data, json({{"type", "content_block_start"},
                                  {"index", 1},
                                  {"content_block",
                                   {{"type", "tool_use"},
                                    {"id", "call_a"},
                                    {"name", "get_weather"},
                                    {"input", json::object()}}}}));
  EXPECT_EQ(events[5].data["delta"],
            json({{"type", "input_json_delta"}, {"partial_json", "{\"ci"}}));
  EXPECT_EQ(events[9].data["index"], 2);
  const json message = accumulate(events);
  EXPECT_EQ(message["content"], json::array({{{"type", "text"}, {"text", "Checking."}},
                                             {{"type", "tool_use"},
                                              {"id", "call_a"},
                                              {"name", "get_weather"},
                                              {"input", {{"city", "Paris"}}}},
                                             {{"type", "tool_use"},
                                              {"id", "call_b"},
                                              {"name", "get_time"},
                                              {"input", {{"tz", "CET"}}}}}));
  EXPECT_EQ(message["stop_reason"], "tool_use");
  // Cached prompt tokens are reads, not input.
  EXPECT_EQ(message["usage"]["input_tokens"], 40);
  EXPECT_EQ(message["usage"]["cache_read_input_tokens"], 60);
  EXPECT_EQ(message["usage"]["output_tokens"], 30);
}

TEST(MessagesStream, ReasoningThenText) {
  const auto events = parse(everySplit(kReasoningStream));
  EXPECT_EQ(types(events),
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop",
                                      "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(events[1].data["content_block"], json({{"type", "thinking"}, {"thinking", ""}}));
  EXPECT_EQ(events[2].data["delta"], json({{"type", "thinking_delta"}, {"thinking", "Think"}}));
  const json message = accumulate(events);
  EXPECT_EQ(message["content"], json::array({{{"type", "thinking"}, {"thinking", "Thinking."}},
                                             {{"type", "text"}, {"text", "Answer"}}}));
  EXPECT_EQ(message["stop_reason"], "max_tokens");
  EXPECT_EQ(message["usage"]["output_tokens"], 9);
}

TEST(MessagesStream, ReportsUsageToTheGateway) {
  auto stream = streamFromChat(kRequest, nullptr);
  std::string out;
  stream->feed(kToolStream, out);
  stream->finish(true, out);
  ASSERT_TRUE(stream->usage().has_value());
  EXPECT_EQ(stream->usage()->prompt_tokens, 100);
  EXPECT_EQ(stream->usage()->completion_tokens, 30);
  EXPECT_EQ(stream->usage()->cached_tokens, 60);
}

TEST(MessagesStream, FinishWithoutDoneStillEnds) {
  const std::string chat = sse(chunk({{"content", "Hi"}})) + sse(chunk(json::object(), "stop"));
  const auto events = parse(run({chat}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "message_stop");
  EXPECT_EQ(events[events.size() - 2].data["usage"]["input_tokens"], 0);
}

TEST(MessagesStream, DoneWithoutChunksIsAnEmptyMessage) {
  EXPECT_EQ(types(parse(run({"data: [DONE]\n\n"}))),
            (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
}

TEST(MessagesStream, BrokenStreamEndsWithAnError) {
  const std::string partial = sse(chunk({{"content", "Hel"}}));
  const auto events = parse(run({partial}, /*complete=*/false));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data,
            json({{"type", "error"},
                  {"error",
                   {{"type", "api_error"}, {"message", "the upstream stream was interrupted"}}}}));
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const Event& e) { return e.type == "message_stop"; }),
            0);
}

TEST(MessagesStream, StreamEndingEarlyEndsWithAnError) {
  // Complete at the TCP level, but neither a finish reason nor [DONE]: the answer is cut.
  const auto events = parse(run({sse(chunk({{"content", "Hel"}}))}, /*complete=*/true));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "error");
  EXPECT_EQ(events.back().data["error"]["message"],
            "the upstream stream ended before the message was complete");
  // A half-sent event counts as broken too.
  const auto cut = parse(run({sse(chunk({{"content", "Hel"}})) + "data: {\"id\""}, true));
  EXPECT_EQ(cut.back().type, "error");
}

TEST(MessagesStream, ChatErrorEventBecomesAnthropicError) {
  const std::string chat =
      sse(chunk({{"content", "Hel"}})) +
      "event: error\ndata: "
      R"({"error":{"message":"openai error: Rate limit reached","type":"rate_limit_exceeded",)"
      R"("param":null,"code":null},"provider":"openai"})"
      "\n\n" +
      sse(chunk({{"content", "never"}})) + "data: [DONE]\n\n";
  const auto events = parse(run({chat}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(
      events.back().data,
      json({{"type", "error"},
            {"error",
             {{"type", "rate_limit_error"}, {"message", "openai error: Rate limit reached"}}}}));
  // Nothing after the error, not even at finish.
  for (const auto& event : events) {
    EXPECT_NE(event.type, "message_stop");
    if (event.type == "content_block_delta") {
      EXPECT_NE(event.data["delta"]["text"], "never");
    }
  }
}

TEST(MessagesStream, ErrorTypesFromChat) {
  auto typeOf = [](const std::string& error) {
    const auto events = parse(run({"data: " + error + "\n\n"}));
    return events.empty() ? json() : events.back().data["error"]["type"];
  };
  EXPECT_EQ(typeOf(R"({"error":{"message":"m","type":"overloaded_error"}})"), "overloaded_error");
  EXPECT_EQ(typeOf(R"({"error":{"message":"m","code":"invalid_api_key"}})"),
            "authentication_error");
  EXPECT_EQ(typeOf(R"({"error":{"message":"m","type":"invalid_request_error"}})"),
            "invalid_request_error");
  EXPECT_EQ(typeOf(R"({"error":{"message":"m","type":"upstream_stream_error"}})"), "api_error");
  EXPECT_EQ(typeOf(R"({"error":"plain"})"), "api_error");
}

TEST(MessagesStream, NotJsonIsAnError) {
  const auto events = parse(run({"data: {not json\n\n"}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "error");
  EXPECT_EQ(events.back().data["error"]["message"], "the upstream sent an event that is not JSON");
}

}  // namespace
// Providers that number every parallel call 0 still give one tool_use block per call id, and a
// "stop" beside tool calls is still a tool_use turn (agents loop on it).
TEST(MessagesStream, CallsSharingAnIndexAreSeparateBlocks) {
  const std::string chat = sse(chunk(toolDelta(0, "call_a", "f", "{}"))) +
                           sse(chunk(toolDelta(0, "call_b", "g", "{\"x\":1}"))) +
                           sse(chunk(json::object(), "stop")) + "data: [DONE]\n\n";
  const auto events = parse(run({chat}));
  std::vector<std::string> ids;
  for (const auto& event : events) {
    if (event.type == "content_block_start") {
      ids.push_back(event.data["content_block"]["id"]);
    }
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"call_a", "call_b"}));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].data["delta"]["stop_reason"], "tool_use");
}

TEST(MessagesStream, TooManyToolCallsEndTheStream) {
  std::string chat;
  for (int i = 0; i < 200; ++i) {
    chat += sse(chunk(toolDelta(i, "call_" + std::to_string(i), "f", "{}")));
  }
  const auto events = parse(run({chat + "data: [DONE]\n\n"}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "error");
  int blocks = 0;
  for (const auto& event : events) {
    blocks += event.type == "content_block_start";
  }
  EXPECT_EQ(blocks, 128);
}

}  // namespace portico::apis::messages
