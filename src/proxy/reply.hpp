#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "portico/endpoint.hpp"
#include "portico/error.hpp"
#include "portico/http_types.hpp"
#include "portico/provider_adapter.hpp"
#include "portico/usage.hpp"
#include "proxy/gateway_request.hpp"
#include "upstream/upstream_client.hpp"

namespace portico::proxy {

// What the pipeline answers: a complete answer, or a 2xx upstream stream to relay.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // x-portkey-* and the upstream headers worth passing on

  // Set when the answer is streamed: the open upstream exchange and, for providers whose stream
  // is not OpenAI's SSE, the transformer to apply.
  std::unique_ptr<upstream::Exchange> stream;
  std::string first_bytes;  // the stream's first piece, already read from the upstream
  std::unique_ptr<StreamTransformer> transformer;
  // The stream is OpenAI's chat or completions SSE relayed as it comes: it must end with
  // data: [DONE], which the relay adds when the upstream did not.
  bool openai_stream = false;
  // The share of the buffer budget `body` holds while it waits to be written.
  upstream::BufferLease buffered;

  // For observers and mid-stream errors.
  std::string provider;
  std::string model;
  std::optional<Usage> usage;
  std::chrono::microseconds upstream_time{0};
  bool client_gone = false;  // the client disconnected; send nothing
};

// A Reply carrying a gateway error.
Reply errorReply(const GatewayError& error);

}  // namespace portico::proxy
