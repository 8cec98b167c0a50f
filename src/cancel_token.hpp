#pragma once

#include "net.hpp"

namespace portico {

// Lets the client side of a request abort its upstream side (the client disconnected): the
// session's watch cancels it, the upstream client registers the stream it is waiting on.
struct CancelToken {
  bool cancelled = false;
  TcpStream* active = nullptr;  // the upstream stream with an operation pending
  void cancel() {
    cancelled = true;
    if (active != nullptr) {
      active->cancel();
    }
  }
};

}  // namespace portico
