#include "proxy/credentials.hpp"

namespace portico::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// Sends the adapter's token request through the custom-host guard and reads the answer.
Awaitable<Expected<FetchedToken>> fetchToken(WorkerContext& worker,
                                             const ProviderAdapter& adapter,
                                             UpstreamRequest request,
                                             CancelToken* cancel) {
  const std::string provider(adapter.id());
  // The token URL can come from client-supplied credentials: same SSRF guard as custom hosts.
  const std::string origin = request.scheme + "://" + request.host + ":" + request.port;
  const auto& is_valid = worker.route_options.config.is_valid_custom_host;
  if (!is_valid || !is_valid(origin)) {
    co_return errors::failure(
        400, provider + ": the token endpoint " + origin + " is refused by the custom-host guard");
  }
  request.check_address = true;
  auto started =
      co_await worker.client.start(request, Clock::now() + std::chrono::seconds(30), cancel);
  if (auto* failure = std::get_if<upstream::Failure>(&started)) {
    if (failure->kind == upstream::FailureKind::kRefused) {
      co_return errors::failure(400, provider + ": token endpoint: " + failure->detail);
    }
    co_return errors::upstreamUnreachable(provider, "token endpoint: " + failure->detail);
  }
  auto exchange = std::move(std::get<std::unique_ptr<upstream::Exchange>>(started));
  std::string body;
  upstream::BufferLease lease(worker.buffer_budget);
  if (auto failure = co_await exchange->readAll(body, 1024 * 1024, &lease)) {
    co_return errors::upstreamUnreachable(provider, "token endpoint: " + failure->detail);
  }
  co_return adapter.parseTokenReply(
      UpstreamReply{exchange->status(), exchange->contentType(), std::move(body), {}});
}

}  // namespace

Expected<std::unique_ptr<KeyGrant>> resolveVirtualKey(const WorkerContext& worker,
                                                      Target& target,
                                                      bool trusted) {
  const std::string virtual_key = target.option("virtual_key");
  const VirtualKeyResolver* keys = worker.virtual_keys;
  if (virtual_key.empty()) {
    if (keys != nullptr && keys->required() && !trusted) {
      return errors::virtualKeyRequired();
    }
    return std::unique_ptr<KeyGrant>();
  }
  if (keys == nullptr) {
    return errors::failure(400,
                           "Virtual keys are not configured on this gateway: pass the provider "
                           "key with x-portkey-api-key or api_key");
  }
  return keys->resolve(virtual_key, target);
}

Awaitable<Expected<bool>> resolveCredentials(WorkerContext& worker,
                                             const ProviderAdapter& adapter,
                                             Target& target,
                                             CancelToken* cancel) {
  if (!target.api_key.empty()) {
    co_return true;
  }
  auto key = adapter.tokenCacheKey(target);
  if (!key) {
    co_return true;  // the provider needs no token (or authenticates otherwise)
  }
  const auto now = Clock::now();
  if (auto cached = worker.tokens.find(*key, now)) {
    target.api_key = std::move(*cached);
    co_return true;
  }
  auto exchange = adapter.tokenExchange(target, std::chrono::system_clock::now());
  if (!exchange) {
    co_return exchange.error();
  }
  auto token = co_await fetchToken(worker, adapter, std::move(exchange->request), cancel);
  if (!token) {
    co_return token.error();
  }
  worker.tokens.put(*key, token->token, token->expires_in, now);
  target.api_key = std::move(token->token);
  co_return true;
}

}  // namespace portico::proxy
