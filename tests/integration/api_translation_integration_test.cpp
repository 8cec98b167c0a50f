// The Responses API and Anthropic's Messages API through the running gateway, served by
// providers that speak neither (translated through their chat mapping) and by those that speak
// them natively (passed through), against fakes that check what the real APIs check.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "portico/observer.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kAnthropicKey = "sk-ant-fake";
constexpr const char* kOpenAiKey = "sk-openai-fake";

struct Event {
  std::string name;
  json data;
};

// An SSE body as (event name, parsed data) pairs; [DONE] has a null data.
std::vector<Event> parseEvents(const std::string& body) {
  std::vector<Event> events;
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find("\n\n", at);
    if (end == std::string::npos) end = body.size();
    const std::string block = body.substr(at, end - at);
    at = end + 2;
    Event event;
    bool any = false;
    std::size_t line_at = 0;
    while (line_at < block.size()) {
      std::size_t line_end = block.find('\n', line_at);
      if (line_end == std::string::npos) line_end = block.size();
      const std::string line = block.substr(line_at, line_end - line_at);
      line_at = line_end + 1;
      if (line.starts_with("event: ")) {
        event.name = line.substr(7);
        any = true;
      } else if (line.starts_with("data: ")) {
        const std::string data = line.substr(6);
        event.data = data == "[DONE]" ? json() : json::parse(data);
        any = true;
      }
    }
    if (any) events.push_back(std::move(event));
  }
  return events;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.name);
  return out;
}

FakeResponse anthropicError(int status, const std::string& type, const std::string& message) {
  return FakeResponse::json(
      status, json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump());
}

FakeResponse openAiError(int status, const std::string& message, const std::string& code) {
  return FakeResponse::json(
      status,
      json{{"error", {{"message", message}, {"type", "invalid_request_error"}, {"code", code}}}}
          .dump());
}

// api.anthropic.com's checks on /v1/messages.
std::optional<FakeResponse> rejectAnthropic(const RecordedRequest& r) {
  if (r.path() != "/v1/messages") return anthropicError(404, "not_found_error", r.path());
  if (r.header("x-api-key") != kAnthropicKey) {
    return anthropicError(401, "authentication_error", "invalid x-api-key");
  }
  if (r.header("anthropic-version").empty()) {
    return anthropicError(400, "invalid_request_error", "anthropic-version: header is required");
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body["messages"].is_array() || !body["max_tokens"].is_number()) {
    return anthropicError(400, "invalid_request_error", "messages and max_tokens are required");
  }
  return std::nullopt;
}

// api.openai.com's checks on /v1/chat/completions: the key, and no Responses or Messages field
// leaking into a chat body (OpenAI rejects unknown parameters).
std::optional<FakeResponse> rejectOpenAiChat(const RecordedRequest& r) {
  if (r.path() != "/v1/chat/completions") return openAiError(404, "no route " + r.path(), "");
  if (r.header("authorization") != std::string("Bearer ") + kOpenAiKey) {
    return openAiError(401, "Incorrect API key provided", "invalid_api_key");
  }
  json body = json::parse(r.body, nullptr, false);
  static const std::set<std::string> kChatFields = {"model",
                                                    "messages",
                                                    "stream",
                                                    "stream_options",
                                                    "max_tokens",
                                                    "temperature",
                                                    "top_p",
                                                    "stop",
                                                    "tools",
                                                    "tool_choice",
                                                    "user",
                                                    "n",
                                                    "response_format",
                                                    "parallel_tool_calls",
                                                    "reasoning_effort",
                                                    "max_completion_tokens",
                                                    "logprobs",
                                                    "top_logprobs"};
  if (!body.is_object() || !body["messages"].is_array()) {
    return openAiError(400, "messages is required", "");
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!kChatFields.count(it.key())) {
      return openAiError(400, "Unrecognized request argument supplied: " + it.key(), "");
    }
  }
  for (const auto& message : body["messages"]) {
    const std::string role = message.value("role", "");
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" &&
        role != "developer") {
      return openAiError(400, "Invalid role " + role, "");
    }
  }
  return std::nullopt;
}

const char* kChatAnswer = R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,
  "model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},
  "finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";

const char* kChatToolAnswer = R"({"id":"chatcmpl-2","object":"chat.completion",
  "created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant",
  "content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather",
  "arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],
  "usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27}})";

std::vector<std::string> chatStreamEvents() {
  auto chunk = [](json delta, json finish, json usage = nullptr) {
    json c = {{"id", "chatcmpl-3"},
              {"object", "chat.completion.chunk"},
              {"created", 1700000000},
              {"model", "gpt-4o-mini"},
              {"choices", json::array()}};
    if (!delta.is_null()) {
      c["choices"].push_back({{"index", 0}, {"delta", delta}, {"finish_reason", finish}});
    }
    if (!usage.is_null()) c["usage"] = usage;
    return "data: " + c.dump() + "\n\n";
  };
  return {chunk({{"role", "assistant"}, {"content", ""}}, nullptr),
          chunk({{"content", "Hel"}}, nullptr),
          chunk({{"content", "lo"}}, nullptr),
          chunk(json::object(), "stop"),
          chunk(nullptr, nullptr,
                {{"prompt_tokens", 5}, {"completion_tokens", 2}, {"total_tokens", 7}}),
          "data: [DONE]\n\n"};
}

Headers anthropicHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "anthropic"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
          {"authorization", std::string("Bearer ") + kAnthropicKey}};
}

Headers openAiHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "openai"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
          {"authorization", std::string("Bearer ") + kOpenAiKey}};
}

const char* kResponsesBody = R"({"model":"claude-sonnet-4-5-20250929",
  "instructions":"Be brief.","input":"Hello","max_output_tokens":200})";

const char* kMessagesBody = R"({"model":"gpt-4o-mini","max_tokens":100,"system":"Be brief.",
  "messages":[{"role":"user","content":[{"type":"text","text":"Hello"}]}]})";

TEST(ApiTranslationIntegration, ResponsesOnAnthropicIsTranslatedBothWays) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = rejectAnthropic(r)) return *error;
    return FakeResponse::json(200, readTestData("anthropic", "response_text.json"));
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/responses", anthropicHeaders(upstream), kResponsesBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "anthropic");
  json body = json::parse(response.body);
  EXPECT_EQ(body["object"], "response");
  EXPECT_EQ(body["status"], "completed");
  EXPECT_TRUE(body["id"].get<std::string>().starts_with("resp_")) << body["id"];
  ASSERT_EQ(body["output"].size(), 1u) << body.dump();
  EXPECT_EQ(body["output"][0]["type"], "message");
  EXPECT_EQ(body["output"][0]["content"][0]["type"], "output_text");
  EXPECT_EQ(body["output"][0]["content"][0]["text"], "Hello! How can I help?");
  EXPECT_EQ(body["usage"]["input_tokens"], 12);
  EXPECT_EQ(body["usage"]["output_tokens"], 8);

  json sent = json::parse(upstream.lastRequest()->body);
  EXPECT_EQ(sent["system"], json::parse(R"([{"type":"text","text":"Be brief."}])"));
  EXPECT_EQ(sent["max_tokens"], 200);
  EXPECT_EQ(sent["messages"][0]["role"], "user");
}

TEST(ApiTranslationIntegration, ResponsesStreamOnAnthropicHasResponsesEvents) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = rejectAnthropic(r)) return *error;
    return FakeResponse::sse(
        splitIntoPieces(readTestData("anthropic", "stream_text_tool.sse"), 17));
  });
  TestGateway gateway;
  json request = json::parse(kResponsesBody);
  request["stream"] = true;
  request["tools"] =
      json::parse(R"([{"type":"function","name":"get_weather","parameters":{"type":"object"}}])");
  StreamingResponse stream(gateway.port(), "/v1/responses", anthropicHeaders(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type"), "text/event-stream");
  auto events = parseEvents(stream.readAll());
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front().name, "response.created");
  EXPECT_EQ(events.back().name, "response.completed");
  std::string text;
  std::string arguments;
  for (const auto& e : events) {
    EXPECT_EQ(e.data["type"], e.name);
    if (e.name == "response.output_text.delta") text += e.data["delta"].get<std::string>();
    if (e.name == "response.function_call_arguments.delta") {
      arguments += e.data["delta"].get<std::string>();
    }
  }
  EXPECT_EQ(text, "Okay, let's check the weather for San Francisco, CA:");
  EXPECT_EQ(json::parse(arguments)["location"], "San Francisco, CA");
  const json& done = events.back().data["response"];
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["output"].back()["type"], "function_call");
  EXPECT_EQ(done["output"].back()["name"], "get_weather");
  EXPECT_EQ(done["usage"]["input_tokens"], 572) << done["usage"];  // 472 + 100 cache reads
}

TEST(ApiTranslationIntegration, ResponsesStatefulFieldsAreRefusedWhenTranslated) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  for (const char* extra : {R"({"previous_response_id":"resp_1"})", R"({"store":true})"}) {
    json request = json::parse(kResponsesBody);
    request.update(json::parse(extra));
    auto response =
        postJson(gateway.port(), "/v1/responses", anthropicHeaders(upstream), request.dump());
    EXPECT_EQ(response.status, 400) << extra << response.body;
    EXPECT_NE(response.body.find("stateless"), std::string::npos) << response.body;
  }
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST(ApiTranslationIntegration, ResponsesOnOpenAiPassesThroughAsSent) {
  const std::string answer =
      R"({"id":"resp_native","object":"response","status":"completed","output":[],)"
      R"("usage":{"input_tokens":4,"output_tokens":2,"total_tokens":6}})";
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (r.path() != "/v1/responses") return openAiError(404, "no route " + r.path(), "");
    if (r.header("authorization") != std::string("Bearer ") + kOpenAiKey) {
      return openAiError(401, "Incorrect API key provided", "invalid_api_key");
    }
    return FakeResponse::json(200, answer);
  });
  TestGateway gateway;
  const std::string request =
      R"({"model":"gpt-4.1","input":"Hi","store":true,"previous_response_id":"resp_0"})";
  auto response = postJson(gateway.port(), "/v1/responses", openAiHeaders(upstream), request);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, answer);
  EXPECT_EQ(upstream.lastRequest()->body, request);
}

TEST(ApiTranslationIntegration, MessagesOnOpenAiIsTranslatedBothWays) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = rejectOpenAiChat(r)) return *error;
    json body = json::parse(r.body);
    return FakeResponse::json(200, body.contains("tools") ? kChatToolAnswer : kChatAnswer);
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/messages", openAiHeaders(upstream), kMessagesBody);
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["role"], "assistant");
  EXPECT_EQ(body["stop_reason"], "end_turn");
  EXPECT_EQ(body["content"], json::parse(R"([{"type":"text","text":"Hi there"}])"));
  EXPECT_EQ(body["usage"]["input_tokens"], 9);
  EXPECT_EQ(body["usage"]["output_tokens"], 3);
  json sent = json::parse(upstream.lastRequest()->body);
  EXPECT_EQ(sent["messages"][0], json::parse(R"({"role":"system","content":"Be brief."})"));

  json with_tools = json::parse(kMessagesBody);
  with_tools["tools"] = json::parse(
      R"([{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}])");
  response = postJson(gateway.port(), "/v1/messages", openAiHeaders(upstream), with_tools.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  body = json::parse(response.body);
  EXPECT_EQ(body["stop_reason"], "tool_use");
  ASSERT_EQ(body["content"].size(), 1u) << body.dump();
  EXPECT_EQ(body["content"][0]["type"], "tool_use");
  EXPECT_EQ(body["content"][0]["id"], "call_1");
  EXPECT_EQ(body["content"][0]["input"], json::parse(R"({"city":"Paris"})"));
}

TEST(ApiTranslationIntegration, MessagesStreamOnOpenAiHasAnthropicEvents) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = rejectOpenAiChat(r)) return *error;
    json body = json::parse(r.body);
    if (body["stream_options"]["include_usage"] != true) {
      return openAiError(400, "the gateway should ask for usage", "");
    }
    return FakeResponse::sse(chatStreamEvents());
  });
  TestGateway gateway;
  json request = json::parse(kMessagesBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/messages", openAiHeaders(upstream), request.dump());
  ASSERT_EQ(stream.status(), 200);
  auto events = parseEvents(stream.readAll());
  const std::vector<std::string> expected = {
      "message_start",      "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_stop", "message_delta",       "message_stop"};
  EXPECT_EQ(names(events), expected);
  ASSERT_EQ(events.size(), expected.size());
  EXPECT_EQ(events[2].data["delta"]["text"], "Hel");
  EXPECT_EQ(events[5].data["delta"]["stop_reason"], "end_turn");
  EXPECT_EQ(events[5].data["usage"]["output_tokens"], 2);
}

TEST(ApiTranslationIntegration, MessagesErrorsTakeAnthropicsShape) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return openAiError(401, "Incorrect API key provided", "invalid_api_key");
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/messages", openAiHeaders(upstream), kMessagesBody);
  EXPECT_EQ(response.status, 401);
  json body = json::parse(response.body);
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "authentication_error");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("Incorrect API key"),
            std::string::npos);
}

TEST(ApiTranslationIntegration, MessagesRefusalsBeforeTheCallTakeAnthropicsShape) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  // No key for openai: refused by the provider's call before anything is sent.
  auto response = postJson(
      gateway.port(), "/v1/messages",
      {{"x-portkey-provider", "openai"}, {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
      kMessagesBody);
  EXPECT_EQ(response.status, 401) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["type"], "error") << response.body;
  EXPECT_EQ(body["error"]["type"], "authentication_error");
  // A body that is no Messages request.
  response = postJson(gateway.port(), "/v1/messages", openAiHeaders(upstream),
                      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_EQ(response.status, 400) << response.body;
  body = json::parse(response.body);
  EXPECT_EQ(body["error"]["type"], "invalid_request_error") << response.body;
  EXPECT_NE(body["error"]["message"].get<std::string>().find("max_tokens"), std::string::npos);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST(ApiTranslationIntegration, MessagesFallBackFromAnthropicToOpenAi) {
  FakeUpstream anthropic([](const RecordedRequest& r) {
    if (auto error = rejectAnthropic(r)) return *error;
    return anthropicError(529, "overloaded_error", "Overloaded");
  });
  FakeUpstream openai([](const RecordedRequest& r) {
    if (auto error = rejectOpenAiChat(r)) return *error;
    return FakeResponse::json(200, kChatAnswer);
  });
  TestGateway gateway;
  json config = {{"strategy", {{"mode", "fallback"}}},
                 {"targets",
                  {{{"provider", "anthropic"},
                    {"api_key", kAnthropicKey},
                    {"custom_host", anthropic.baseUrl() + "/v1"}},
                   {{"provider", "openai"},
                    {"api_key", kOpenAiKey},
                    {"custom_host", openai.baseUrl() + "/v1"},
                    {"override_params", {{"model", "gpt-4o-mini"}}}}}}};
  json request = json::parse(kMessagesBody);
  request["model"] = "claude-sonnet-4-5-20250929";
  auto response = postJson(gateway.port(), "/v1/messages", {{"x-portkey-config", config.dump()}},
                           request.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "openai");
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(anthropic.requestCount(), 1u);
  json body = json::parse(response.body);
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["content"][0]["text"], "Hi there");
  EXPECT_EQ(json::parse(openai.lastRequest()->body)["model"], "gpt-4o-mini");
}

TEST(ApiTranslationIntegration, MessagesOnAnthropicStillPassThrough) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = rejectAnthropic(r)) return *error;
    return FakeResponse::json(200, readTestData("anthropic", "response_text.json"));
  });
  TestGateway gateway;
  json request = json::parse(kMessagesBody);
  request["model"] = "claude-sonnet-4-5-20250929";
  auto response =
      postJson(gateway.port(), "/v1/messages", anthropicHeaders(upstream), request.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body),
            json::parse(readTestData("anthropic", "response_text.json")));
  EXPECT_EQ(upstream.lastRequest()->body, request.dump());
}

TEST(ApiTranslationIntegration, CountTokensPassesThroughOnlyWhereTheProviderHasIt) {
  FakeUpstream anthropic([](const RecordedRequest& r) {
    if (r.path() != "/v1/messages/count_tokens") return anthropicError(404, "x", r.path());
    return FakeResponse::json(200, R"({"input_tokens":14})");
  });
  FakeUpstream openai([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"Hi"}]})";
  auto counted =
      postJson(gateway.port(), "/v1/messages/count_tokens", anthropicHeaders(anthropic), body);
  EXPECT_EQ(counted.status, 200) << counted.body;
  EXPECT_EQ(json::parse(counted.body)["input_tokens"], 14);
  auto refused = postJson(gateway.port(), "/v1/messages/count_tokens", openAiHeaders(openai), body);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("count_tokens is not supported by openai"), std::string::npos);
  EXPECT_EQ(openai.requestCount(), 0u);
}

// Providers with their own wire formats, one answer each: the translation sits on their chat
// mapping, whatever it is.
TEST(ApiTranslationIntegration, ResponsesOnGoogleAndMessagesOnCohere) {
  FakeUpstream google([](const RecordedRequest& r) {
    if (r.path() != "/v1beta/models/gemini-2.0-flash:generateContent") {
      return FakeResponse::json(404, R"({"error":{"code":404,"message":"not found"}})");
    }
    return FakeResponse::json(200, readTestData("google", "response_text.json"));
  });
  FakeUpstream cohere([](const RecordedRequest& r) {
    if (r.path() != "/v2/chat" || r.header("authorization") != "Bearer co-key") {
      return FakeResponse::json(404, R"({"message":"not found"})");
    }
    return FakeResponse::json(200, readTestData("cohere", "chat_response_text.json"));
  });
  TestGateway gateway;
  auto from_google = postJson(gateway.port(), "/v1/responses",
                              {{"x-portkey-provider", "google"},
                               {"x-portkey-custom-host", google.baseUrl()},
                               {"authorization", "Bearer g-key"}},
                              R"({"model":"gemini-2.0-flash","input":"Hello"})");
  ASSERT_EQ(from_google.status, 200) << from_google.body;
  json body = json::parse(from_google.body);
  EXPECT_EQ(body["output"][0]["content"][0]["text"], "Hello, world!");
  EXPECT_EQ(body["usage"]["output_tokens_details"]["reasoning_tokens"], 10);

  auto from_cohere = postJson(gateway.port(), "/v1/messages",
                              {{"x-portkey-provider", "cohere"},
                               {"x-portkey-custom-host", cohere.baseUrl()},
                               {"authorization", "Bearer co-key"}},
                              R"({"model":"command-r","max_tokens":50,
                                  "messages":[{"role":"user","content":"Hello"}]})");
  ASSERT_EQ(from_cohere.status, 200) << from_cohere.body;
  body = json::parse(from_cohere.body);
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["content"][0]["text"], "Hello! How can I help?");
  EXPECT_EQ(body["stop_reason"], "end_turn");
}

// Bedrock's Converse for a model that is not Claude: the Responses API through its chat mapping.
TEST(ApiTranslationIntegration, ResponsesOnBedrockConverse) {
  FakeUpstream bedrock([](const RecordedRequest& r) {
    if (r.path() != "/model/amazon.nova-lite-v1%3A0/converse" ||
        !r.header("authorization").starts_with("AWS4-HMAC-SHA256 ")) {
      return FakeResponse::json(403, R"({"message":"bad signature or path"})");
    }
    return FakeResponse::json(200, R"({"output":{"message":{"role":"assistant","content":[
        {"text":"Sunny."}]}},"stopReason":"max_tokens",
        "usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15},"metrics":{"latencyMs":9}})");
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/responses",
                           {{"x-portkey-provider", "bedrock"},
                            {"x-portkey-aws-access-key-id", "AKIDEXAMPLE"},
                            {"x-portkey-aws-secret-access-key", "secret"},
                            {"x-portkey-aws-region", "us-east-1"},
                            {"x-portkey-custom-host", bedrock.baseUrl()}},
                           R"({"model":"amazon.nova-lite-v1:0","input":"Weather?"})");
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["status"], "incomplete");
  EXPECT_EQ(body["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_EQ(body["output"][0]["content"][0]["text"], "Sunny.");
  EXPECT_EQ(body["usage"]["total_tokens"], 15);
}

// What the observers (access log, metrics, budgets) are told a translated request used: the
// provider's usage, complete and streamed.
class UsageRecorder : public Observer {
 public:
  void requestEnded(const RequestInfo& request, const RequestOutcome& outcome) override {
    if (!request.gateway_route) return;
    std::lock_guard lock(mutex_);
    ended_.emplace_back(request.endpoint, outcome.usage);
    changed_.notify_all();
  }
  std::vector<std::pair<Endpoint, std::optional<Usage>>> waitFor(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 10s, [&] { return ended_.size() >= n; });
    return ended_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<Endpoint, std::optional<Usage>>> ended_;
};

TEST(ApiTranslationIntegration, ObserversSeeTheProvidersUsage) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = rejectOpenAiChat(r)) return *error;
    if (json::parse(r.body).value("stream", false)) return FakeResponse::sse(chatStreamEvents());
    return FakeResponse::json(200, kChatAnswer);
  });
  auto recorder = std::make_shared<UsageRecorder>();
  ServerOptions options = TestGateway::defaultOptions();
  options.observers.push_back(recorder);
  TestGateway gateway(options);
  EXPECT_EQ(postJson(gateway.port(), "/v1/messages", openAiHeaders(upstream), kMessagesBody).status,
            200);
  json streamed_messages = json::parse(kMessagesBody);
  streamed_messages["stream"] = true;
  StreamingResponse translated(gateway.port(), "/v1/messages", openAiHeaders(upstream),
                               streamed_messages.dump());
  ASSERT_EQ(translated.status(), 200);
  translated.readAll();
  const auto ended = recorder->waitFor(2);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].first, Endpoint::kMessages);
  ASSERT_TRUE(ended[0].second);
  EXPECT_EQ(ended[0].second->prompt_tokens, 9);
  EXPECT_EQ(ended[0].second->completion_tokens, 3);
  EXPECT_EQ(ended[1].first, Endpoint::kMessages);
  ASSERT_TRUE(ended[1].second);
  EXPECT_EQ(ended[1].second->prompt_tokens, 5);
  EXPECT_EQ(ended[1].second->completion_tokens, 2);
}

}  // namespace
}  // namespace portico::testing
