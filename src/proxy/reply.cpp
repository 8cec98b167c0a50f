#include "proxy/reply.hpp"

namespace portico::proxy {

Reply errorReply(const GatewayError& error) {
  Reply reply;
  reply.status = error.status;
  reply.content_type = "application/json";
  reply.body = error.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  reply.headers = error.headers;
  if (error.gateway_exception) {
    reply.headers.emplace_back("x-portkey-gateway-exception", "true");
  }
  return reply;
}

}  // namespace portico::proxy
