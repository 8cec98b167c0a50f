#include "redis/redis_client.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "portico/encoding.hpp"
#include "support/redis_server.hpp"
#include "support/run_awaitable.hpp"

namespace portico::redis {
namespace {

using testing::RedisServer;
using testing::runAwaitable;

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) {
      GTEST_SKIP() << "redis-server is not installed (.ci/setup installs it)";
    }
    server_ = std::make_unique<RedisServer>();
    std::string why;
    auto endpoint = parseRedisUrl(server_->url(), why);
    ASSERT_TRUE(endpoint) << why;
    client_ = std::make_unique<Client>(ioc_.get_executor(), *endpoint,
                                       std::chrono::milliseconds(300), health_);
  }

  std::optional<Reply> call(std::vector<std::string> args) {
    return runAwaitable(ioc_, client_->call(std::move(args)));
  }

  // Calls PING until it is answered, at most `tries` times: reconnecting waits a backoff.
  bool pingsWithin(int tries) {
    for (int i = 0; i < tries; ++i) {
      auto reply = call({"PING"});
      if (reply && reply->text == "PONG") {
        return true;
      }
      testing::runFor(ioc_, std::chrono::milliseconds(50));
    }
    return false;
  }

  net::io_context ioc_;
  std::shared_ptr<Health> health_ = std::make_shared<Health>();
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(RedisClientTest, AnswersCommandsOfEveryReplyType) {
  auto set = call({"SET", "portico:test", "value with spaces\r\nand CRLF"});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->type, Reply::Type::kStatus);
  EXPECT_EQ(set->text, "OK");
  auto get = call({"GET", "portico:test"});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->type, Reply::Type::kString);
  EXPECT_EQ(get->text, "value with spaces\r\nand CRLF");  // binary-safe arguments
  auto missing = call({"GET", "portico:absent"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->type, Reply::Type::kNil);
  auto count = call({"INCRBY", "portico:n", "5"});
  ASSERT_TRUE(count);
  EXPECT_EQ(count->integer, 5);
  auto wrong = call({"INCRBY", "portico:test", "1"});
  ASSERT_TRUE(wrong);
  EXPECT_TRUE(wrong->isError());
  EXPECT_TRUE(client_->connected());
  EXPECT_TRUE(health_->up());
  EXPECT_GE(health_->errors(), 1u);
}

TEST_F(RedisClientTest, ScriptsGoInFullOnceThenBySha) {
  const Script script("return {tonumber(ARGV[1]) + 1, KEYS[1]}");
  auto first = runAwaitable(ioc_, client_->eval(script, {"k"}, {"41"}));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->type, Reply::Type::kArray);
  EXPECT_EQ(first->integerAt(0), 42);
  EXPECT_EQ(first->elements.at(1).text, "k");
  EXPECT_EQ(server_->command("SCRIPT EXISTS " + script.sha1), "1");
  EXPECT_EQ(script.sha1, sha1Hex(script.text));
  // Redis forgets its scripts: the next eval gets NOSCRIPT and sends it in full again.
  EXPECT_EQ(server_->command("SCRIPT FLUSH"), "OK");
  auto again = runAwaitable(ioc_, client_->eval(script, {"k"}, {"1"}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->integerAt(0), 2);
  // Fire-and-forget sends still land, in order, on the same connection.
  client_->send({"SET", "portico:sent", "1"});
  auto read = call({"GET", "portico:sent"});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->text, "1");
}

TEST_F(RedisClientTest, AStoppedRedisFailsFastAndIsUsedAgainWhenBack) {
  ASSERT_TRUE(pingsWithin(1));
  server_->stop();
  // The connection breaks, then connecting is refused: no answer, no hang.
  EXPECT_FALSE(call({"PING"}));
  EXPECT_FALSE(call({"PING"}));
  EXPECT_FALSE(health_->up());
  EXPECT_GE(health_->unavailable(), 2u);
  server_->start();
  // The backoff is at most a second: 40 tries 50 ms apart are more than enough.
  EXPECT_TRUE(pingsWithin(40));
  EXPECT_TRUE(health_->up());
}

TEST_F(RedisClientTest, ARedisThatStopsAnsweringTimesOutAndIsDroppedThenRecovers) {
  ASSERT_TRUE(pingsWithin(1));
  server_->pause();
  EXPECT_FALSE(call({"PING"}));
  EXPECT_FALSE(call({"PING"}));
  EXPECT_GE(health_->timeouts(), 2u);
  // Two timeouts in a row drop the connection: what was queued on it is failed, not kept.
  EXPECT_FALSE(client_->connected());
  EXPECT_EQ(client_->inFlight(), 0u);
  server_->resume();
  EXPECT_TRUE(pingsWithin(40));
}

TEST_F(RedisClientTest, ResolvesAHostNameOffTheThread) {
  std::string why;
  auto endpoint = parseRedisUrl("redis://localhost:" + std::to_string(server_->port()), why);
  ASSERT_TRUE(endpoint) << why;
  Client named(ioc_.get_executor(), *endpoint, std::chrono::milliseconds(300), health_);
  named.connect();  // starts resolving; commands fail fast until the connection is up
  std::optional<Reply> reply;
  for (int i = 0; i < 40 && !reply; ++i) {
    reply = runAwaitable(ioc_, named.call({"PING"}));
    if (!reply) {
      testing::runFor(ioc_, std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->text, "PONG");
}

TEST(RedisClientLogin, AWrongPasswordIsAnOutageAndTheRightOneWorks) {
  if (!RedisServer::available()) {
    GTEST_SKIP() << "redis-server is not installed (.ci/setup installs it)";
  }
  RedisServer server("right-horse-battery");
  net::io_context ioc;
  auto health = std::make_shared<Health>();
  std::string why;
  Client wrong(ioc.get_executor(), *parseRedisUrl(server.urlWithPassword("wrong"), why),
               std::chrono::milliseconds(300), health);
  auto refused = runAwaitable(ioc, wrong.call({"PING"}));
  EXPECT_FALSE(refused);  // WRONGPASS: Redis is there but will not serve us
  EXPECT_FALSE(health->up());
  EXPECT_EQ(health->errors(), 0u);
  Client right(ioc.get_executor(),
               *parseRedisUrl(server.urlWithPassword("right-horse-battery"), why),
               std::chrono::milliseconds(300), health);
  auto answered = runAwaitable(ioc, right.call({"PING"}));
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->text, "PONG");
  EXPECT_TRUE(health->up());
}

TEST_F(RedisClientTest, AnAnswerPastItsDeadlineReachesTheLateHandler) {
  ASSERT_TRUE(pingsWithin(1));
  // Another connection keeps Redis busy past this client's 300 ms deadline.
  std::thread busy([this] { server_->command("DEBUG SLEEP 0.6"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let DEBUG SLEEP start first
  std::optional<Reply> late;
  auto reply =
      runAwaitable(ioc_, client_->call({"INCR", "portico:late"},
                                       [&late](Client&, const Reply& answer) { late = answer; }));
  EXPECT_FALSE(reply);
  busy.join();
  for (int i = 0; i < 40 && !late; ++i) {
    testing::runFor(ioc_, std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(late);
  EXPECT_EQ(late->integer, 1);
}

TEST_F(RedisClientTest, NothingListeningIsUnavailableNotAnError) {
  server_->stop();
  std::string why;
  auto endpoint = parseRedisUrl(server_->url(), why);
  ASSERT_TRUE(endpoint);
  Client fresh(ioc_.get_executor(), *endpoint, std::chrono::milliseconds(300), health_);
  auto reply = runAwaitable(ioc_, fresh.call({"PING"}));
  EXPECT_FALSE(reply);
  // Backing off: the next call fails at once without trying.
  auto next = runAwaitable(ioc_, fresh.call({"PING"}));
  EXPECT_FALSE(next);
  EXPECT_EQ(health_->errors(), 0u);
}

}  // namespace
}  // namespace portico::redis
