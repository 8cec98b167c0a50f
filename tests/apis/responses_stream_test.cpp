#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "apis/responses_api.hpp"

namespace portico::apis::responses {
namespace {

using nlohmann::json;

struct Event {
  std::string name;
  json data;
};

const json kRequest = json::parse(R"({"model":"asked-model","input":"Hi","stream":true,
  "instructions":"Be brief.","tools":[{"type":"function","name":"weather","parameters":{}}]})");

std::string chunk(const std::string& delta_and_finish, const std::string& extra = "") {
  return R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,)"
         R"("model":"up-model","choices":[{"index":0,)" +
         delta_and_finish + "}]" + extra + "}\n\n";
}

const std::string kUsage =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"up-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,"
    "\"total_tokens\":14,\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n";

const std::string kDone = "data: [DONE]\n\n";

const std::string kTextStream =
    chunk(R"("delta":{"role":"assistant","content":""},"finish_reason":null)") +
    chunk(R"("delta":{"content":"Hel"},"finish_reason":null)") +
    chunk(R"("delta":{"content":"lo ✓"},"finish_reason":null)") +
    chunk(R"("delta":{},"finish_reason":"stop")") + kUsage + kDone;

const std::string kToolStream =
    chunk(
        R"("delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a",)"
        R"("type":"function","function":{"name":"weather","arguments":""}}]},"finish_reason":null)") +
    chunk(R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})"
          R"(,"finish_reason":null)") +
    chunk(R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})"
          R"(,"finish_reason":null)") +
    chunk(R"("delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function",)"
          R"("function":{"name":"clock","arguments":"{}"}}]},"finish_reason":null)") +
    chunk(R"("delta":{},"finish_reason":"tool_calls")") + kUsage + kDone;

const std::string kReasoningStream =
    chunk(R"("delta":{"role":"assistant","reasoning_content":"Let me "},"finish_reason":null)") +
    chunk(R"("delta":{"reasoning_content":"think."},"finish_reason":null)") +
    chunk(R"("delta":{"content":"4"},"finish_reason":null)") +
    chunk(R"("delta":{"content":"2"},"finish_reason":null)") +
    chunk(R"("delta":{},"finish_reason":"stop")",
          R"(,"usage":{"prompt_tokens":9,"completion_tokens":5})") +
    kDone;

// The bytes in one piece (split == npos) or in two: [0, split) and the rest.
std::string run(const std::string& chat_sse,
                std::size_t split = std::string::npos,
                bool complete = true) {
  auto stream = streamFromChat(kRequest, nullptr);
  std::string out;
  if (split == std::string::npos) {
    stream->feed(chat_sse, out);
  } else {
    stream->feed(chat_sse.substr(0, split), out);
    stream->feed(chat_sse.substr(split), out);
  }
  stream->finish(complete, out);
  return out;
}

// Gateway-made ids are random: the same text with each id's 32 hex digits left out.
std::string withoutIds(const std::string& sse) {
  std::string result;
  result.reserve(sse.size());
  for (std::size_t i = 0; i < sse.size(); ++i) {
    result += sse[i];
    if (sse[i] != '_' || i + 32 >= sse.size()) {
      continue;
    }
    const bool hex = std::all_of(sse.begin() + i + 1, sse.begin() + i + 33, [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
    });
    if (hex) {
      result += "ID";
      i += 32;
    }
  }
  return result;
}

// Parses "event: <name>\ndata: <json>\n\n" blocks, checking each one's framing.
std::vector<Event> parse(const std::string& sse) {
  std::vector<Event> events;
  std::size_t at = 0;
  while (at < sse.size()) {
    const std::size_t end = sse.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "unterminated event";
    if (end == std::string::npos) {
      break;
    }
    const std::string block = sse.substr(at, end - at);
    at = end + 2;
    const std::size_t newline = block.find('\n');
    EXPECT_EQ(block.rfind("event: ", 0), 0u) << block;
    EXPECT_EQ(block.compare(newline + 1, 6, "data: "), 0) << block;
    Event event{block.substr(7, newline - 7), json::parse(block.substr(newline + 7))};
    EXPECT_EQ(event.data["type"], event.name);
    events.push_back(std::move(event));
  }
  return events;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> result;
  for (const Event& event : events) {
    result.push_back(event.name);
  }
  return result;
}

void expectNumbered(const std::vector<Event>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].data["sequence_number"], i) << events[i].name;
  }
}

// Every split gives the bytes a single feed gives.
void expectSplitInvariant(const std::string& chat_sse) {
  const std::string whole = withoutIds(run(chat_sse));
  for (std::size_t split = 0; split <= chat_sse.size(); ++split) {
    ASSERT_EQ(withoutIds(run(chat_sse, split)), whole) << "split at " << split;
  }
}

TEST(ResponsesStream, TextStreamEvents) {
  const auto events = parse(run(kTextStream));
  ASSERT_EQ(names(events),
            (std::vector<std::string>{"response.created", "response.in_progress",
                                      "response.output_item.added", "response.content_part.added",
                                      "response.output_text.delta", "response.output_text.delta",
                                      "response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
  expectNumbered(events);
  const json& created = events[0].data["response"];
  EXPECT_EQ(created["status"], "in_progress");
  EXPECT_EQ(created["model"], "up-model");
  EXPECT_EQ(created["created_at"], 1700000000);
  EXPECT_EQ(created["output"], json::array());
  EXPECT_TRUE(created["usage"].is_null());
  EXPECT_EQ(created["instructions"], "Be brief.");
  EXPECT_EQ(created["tools"], kRequest["tools"]);
  EXPECT_EQ(created["id"], events[1].data["response"]["id"]);

  const json& added = events[2].data;
  EXPECT_EQ(added["output_index"], 0);
  const std::string item_id = added["item"]["id"];
  EXPECT_EQ(added["item"], (json{{"type", "message"},
                                 {"id", item_id},
                                 {"status", "in_progress"},
                                 {"role", "assistant"},
                                 {"content", json::array()}}));
  EXPECT_EQ(events[3].data["part"],
            json::parse(R"({"type":"output_text","text":"","annotations":[]})"));
  EXPECT_EQ(events[3].data["item_id"], item_id);
  EXPECT_EQ(events[3].data["content_index"], 0);
  EXPECT_EQ(events[4].data["delta"], "Hel");
  EXPECT_EQ(events[4].data["item_id"], item_id);
  EXPECT_EQ(events[4].data["logprobs"], json::array());
  EXPECT_EQ(events[5].data["delta"], "lo ✓");
  EXPECT_EQ(events[6].data["text"], "Hello ✓");
  EXPECT_EQ(events[7].data["part"]["text"], "Hello ✓");
  EXPECT_EQ(events[8].data["item"]["status"], "completed");
  EXPECT_EQ(events[8].data["item"]["content"][0]["text"], "Hello ✓");

  const json& done = events[9].data["response"];
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["id"], created["id"]);
  EXPECT_EQ(done["output"], json::array({events[8].data["item"]}));
  EXPECT_EQ(done["usage"], json::parse(R"({"input_tokens":9,"input_tokens_details":
    {"cached_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":3},
    "total_tokens":14})"));
}

TEST(ResponsesStream, TextStreamSplitAnywhere) { expectSplitInvariant(kTextStream); }

TEST(ResponsesStream, ToolCallStreamEvents) {
  const auto events = parse(run(kToolStream));
  ASSERT_EQ(names(events),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.delta",
                "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.done", "response.output_item.done",
                "response.function_call_arguments.done", "response.output_item.done",
                "response.completed"}));
  expectNumbered(events);
  const json& first = events[2].data["item"];
  EXPECT_EQ(first["type"], "function_call");
  EXPECT_EQ(first["call_id"], "call_a");
  EXPECT_EQ(first["name"], "weather");
  EXPECT_EQ(first["arguments"], "");
  EXPECT_EQ(first["status"], "in_progress");
  EXPECT_EQ(first["id"].get<std::string>().rfind("fc_", 0), 0u);
  EXPECT_EQ(events[3].data["item_id"], first["id"]);
  EXPECT_EQ(events[3].data["output_index"], 0);
  EXPECT_EQ(events[3].data["delta"], "{\"city\":");
  EXPECT_EQ(events[5].data["output_index"], 1);
  EXPECT_EQ(events[5].data["item"]["call_id"], "call_b");
  EXPECT_EQ(events[6].data["delta"], "{}");
  EXPECT_EQ(events[7].data["arguments"], "{\"city\":\"Paris\"}");
  EXPECT_EQ(events[7].data["name"], "weather");
  EXPECT_EQ(events[8].data["item"]["status"], "completed");
  EXPECT_EQ(events[8].data["item"]["arguments"], "{\"city\":\"Paris\"}");
  EXPECT_EQ(events[10].data["item"]["name"], "clock");
  const json& done = events[11].data["response"];
  EXPECT_EQ(done["status"], "completed");
  ASSERT_EQ(done["output"].size(), 2u);
  EXPECT_EQ(done["output"][0], events[8].data["item"]);
  EXPECT_EQ(done["output"][1], events[10].data["item"]);
}

TEST(ResponsesStream, ToolCallStreamSplitAnywhere) { expectSplitInvariant(kToolStream); }

TEST(ResponsesStream, ReasoningThenTextEvents) {
  const auto events = parse(run(kReasoningStream));
  EXPECT_EQ(
      names(events),
      (std::vector<std::string>{
          "response.created", "response.in_progress", "response.output_item.added",
          "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
          "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
          "response.reasoning_summary_part.done", "response.output_item.done",
          "response.output_item.added", "response.content_part.added", "response.output_text.delta",
          "response.output_text.delta", "response.output_text.done", "response.content_part.done",
          "response.output_item.done", "response.completed"}));
  expectNumbered(events);
  const json& reasoning = events[2].data["item"];
  EXPECT_EQ(reasoning["type"], "reasoning");
  EXPECT_EQ(reasoning["summary"], json::array());
  EXPECT_EQ(events[3].data["part"], json::parse(R"({"type":"summary_text","text":""})"));
  EXPECT_EQ(events[4].data["summary_index"], 0);
  EXPECT_EQ(events[4].data["item_id"], reasoning["id"]);
  EXPECT_EQ(events[6].data["text"], "Let me think.");
  EXPECT_EQ(events[8].data["item"]["summary"],
            json::parse(R"([{"type":"summary_text","text":"Let me think."}])"));
  EXPECT_EQ(events[9].data["output_index"], 1);
  EXPECT_EQ(events[13].data["text"], "42");
  const json& done = events[16].data["response"];
  ASSERT_EQ(done["output"].size(), 2u);
  EXPECT_EQ(done["output"][0]["type"], "reasoning");
  EXPECT_EQ(done["output"][1]["content"][0]["text"], "42");
  EXPECT_EQ(done["usage"]["input_tokens"], 9);
  EXPECT_EQ(done["usage"]["total_tokens"], 14);
}

TEST(ResponsesStream, ReasoningStreamSplitAnywhere) { expectSplitInvariant(kReasoningStream); }

TEST(ResponsesStream, ReportsUsageToTheGateway) {
  auto stream = streamFromChat(kRequest, nullptr);
  std::string out;
  stream->feed(kTextStream, out);
  stream->finish(true, out);
  ASSERT_TRUE(stream->usage().has_value());
  EXPECT_EQ(stream->usage()->prompt_tokens, 9);
  EXPECT_EQ(stream->usage()->completion_tokens, 5);
}

TEST(ResponsesStream, LengthEndsIncomplete) {
  const std::string sse = chunk(R"("delta":{"content":"Once"},"finish_reason":null)") +
                          chunk(R"("delta":{},"finish_reason":"length")") + kDone;
  const auto events = parse(run(sse));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "response.incomplete");
  EXPECT_EQ(events.back().data["response"]["status"], "incomplete");
  EXPECT_EQ(events.back().data["response"]["incomplete_details"],
            json::parse(R"({"reason":"max_output_tokens"})"));
}

void expectFailed(const std::vector<Event>& events, const std::string& code) {
  ASSERT_GE(events.size(), 2u);
  const Event& error = events[events.size() - 2];
  EXPECT_EQ(error.name, "error");
  EXPECT_EQ(error.data["code"], code);
  EXPECT_TRUE(error.data["message"].is_string());
  EXPECT_TRUE(error.data["param"].is_null());
  const Event& failed = events.back();
  EXPECT_EQ(failed.name, "response.failed");
  EXPECT_EQ(failed.data["response"]["status"], "failed");
  EXPECT_EQ(failed.data["response"]["error"]["code"], code);
  EXPECT_EQ(failed.data["response"]["error"]["message"], error.data["message"]);
  for (const Event& event : events) {
    EXPECT_NE(event.name, "response.completed");
  }
  expectNumbered(events);
}

TEST(ResponsesStream, BrokenStreamFails) {
  const std::string partial = chunk(R"("delta":{"content":"Hel"},"finish_reason":null)");
  const auto events = parse(run(partial, std::string::npos, false));
  expectFailed(events, "server_error");
  // What was said so far is in the failed response, marked incomplete.
  const json& output = events.back().data["response"]["output"];
  ASSERT_EQ(output.size(), 1u);
  EXPECT_EQ(output[0]["status"], "incomplete");
  EXPECT_EQ(output[0]["content"][0]["text"], "Hel");
}

// The bridge hands a cut-off last event on as an error of its own.
TEST(ResponsesStream, StreamBrokenInsideAnEventFails) {
  const std::string partial = chunk(R"("delta":{"content":"Hel"},"finish_reason":null)");
  // The half event is dropped: the client hears of the interruption, not of bad JSON.
  expectFailed(parse(run(partial + "data: {\"id\":", std::string::npos, false)), "server_error");
}

TEST(ResponsesStream, StreamEndingWithoutFinishOrDoneFails) {
  const std::string partial = chunk(R"("delta":{"content":"Hel"},"finish_reason":null)");
  expectFailed(parse(run(partial)), "server_error");
}

// The whole answer is kept for response.completed, so an endless upstream stream must end.
TEST(ResponsesStream, StreamTooLongToKeepFails) {
  auto stream = streamFromChat(kRequest, nullptr);
  const std::string piece =
      chunk(R"("delta":{"content":")" + std::string(1 << 20, 'x') + R"("},"finish_reason":null)");
  std::string out;
  std::size_t fed = 0;
  for (; fed < 40 && out.find("response.failed") == std::string::npos; ++fed) {
    stream->feed(piece, out);
  }
  EXPECT_LT(fed, 40u) << "still translating after 40 MiB";
  const std::size_t failed_at = out.size();
  stream->feed(piece, out);  // nothing more once failed
  stream->finish(true, out);
  EXPECT_EQ(out.size(), failed_at);
  EXPECT_NE(out.find("too long to translate"), std::string::npos);
}

TEST(ResponsesStream, TooManyToolCallsFail) {
  std::string chat;
  for (int i = 0; i < 200; ++i) {
    chat += chunk(R"("delta":{"tool_calls":[{"index":)" + std::to_string(i) + R"(,"id":"call_)" +
                  std::to_string(i) +
                  R"(","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null)");
  }
  const auto events = parse(run(chat + "data: [DONE]\n\n"));
  int added = 0;
  for (const auto& event : events) {
    added += event.name == "response.output_item.added";
  }
  EXPECT_EQ(added, 128);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "response.failed");
}

TEST(ResponsesStream, UpstreamErrorEventAfterStart) {
  const std::string sse = chunk(R"("delta":{"content":"Hel"},"finish_reason":null)") +
                          "event: error\ndata: {\"error\":{\"message\":\"overloaded now\","
                          "\"type\":\"server_error\",\"code\":\"overloaded\"}}\n\n";
  const auto events = parse(run(sse));
  expectFailed(events, "overloaded");
  EXPECT_EQ(events[events.size() - 2].data["message"], "overloaded now");
  // The nested form the openai SDKs also read.
  EXPECT_EQ(events[events.size() - 2].data["error"]["message"], "overloaded now");
}

TEST(ResponsesStream, UpstreamErrorBeforeAnyChunkIsOnlyAnError) {
  const auto events = parse(
      run("data: {\"error\":{\"message\":\"bad key\",\"type\":\"invalid_request_error\"}}\n\n"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "error");
  EXPECT_EQ(events[0].data["code"], "invalid_request_error");
  EXPECT_EQ(events[0].data["message"], "bad key");
  EXPECT_EQ(events[0].data["sequence_number"], 0);
}

// A call whose name comes after its first argument piece opens once the name is known, with
// the pieces so far as one delta.
TEST(ResponsesStream, ToolCallNameArrivingLate) {
  const std::string sse =
      chunk(
          R"("delta":{"tool_calls":[{"index":0,"id":"call_x","function":{"arguments":"{\"a\""}}]},"finish_reason":null)") +
      chunk(
          R"("delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":":1}"}}]},"finish_reason":null)") +
      chunk(R"("delta":{},"finish_reason":"tool_calls")") + kDone;
  const auto events = parse(run(sse));
  ASSERT_EQ(names(events),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done", "response.completed"}));
  EXPECT_EQ(events[2].data["item"]["name"], "f");
  EXPECT_EQ(events[2].data["item"]["call_id"], "call_x");
  EXPECT_EQ(events[3].data["delta"], "{\"a\":1}");
  EXPECT_EQ(events[4].data["arguments"], "{\"a\":1}");
}

// Providers that number every call 0 still get one item per call id.
TEST(ResponsesStream, ToolCallsSharingAnIndexButNotAnId) {
  const std::string sse =
      chunk(
          R"("delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null)") +
      chunk(
          R"("delta":{"tool_calls":[{"index":0,"id":"call_2","function":{"name":"g","arguments":"{\"x\":1}"}}]},"finish_reason":null)") +
      chunk(R"("delta":{},"finish_reason":"tool_calls")") + kDone;
  const auto events = parse(run(sse));
  ASSERT_FALSE(events.empty());
  const json& output = events.back().data["response"]["output"];
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0]["call_id"], "call_1");
  EXPECT_EQ(output[0]["arguments"], "{}");
  EXPECT_EQ(output[1]["call_id"], "call_2");
  EXPECT_EQ(output[1]["name"], "g");
  EXPECT_EQ(output[1]["arguments"], "{\"x\":1}");
}

}  // namespace
}  // namespace portico::apis::responses
