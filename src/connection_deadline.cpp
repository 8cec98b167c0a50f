#include "connection_deadline.hpp"

namespace portico {

struct ConnectionDeadline::State {
  explicit State(TcpStream& s) : stream(&s), timer(s.get_executor()) {}
  TcpStream* stream;  // null once the owner is gone
  SteadyTimer timer;
  Clock::time_point at = Clock::time_point::max();
  bool waiting = false;
  bool expired = false;
  unsigned generation = 0;  // of the wait in flight; an older one was superseded
};

ConnectionDeadline::ConnectionDeadline(TcpStream& stream)
    : state_(std::make_shared<State>(stream)) {}

ConnectionDeadline::~ConnectionDeadline() {
  state_->stream = nullptr;
  state_->timer.cancel();
}

void ConnectionDeadline::waitFor(const std::shared_ptr<State>& state) {
  state->waiting = true;
  const unsigned generation = ++state->generation;
  state->timer.async_wait([state, generation](const beast::error_code& ec) {
    if (state->stream == nullptr || generation != state->generation) {
      return;  // the owner is gone, or a sooner wait took this one's place
    }
    state->waiting = false;
    if (ec && ec != net::error::operation_aborted) {
      return;
    }
    if (state->at == Clock::time_point::max()) {
      return;  // no deadline any more: the next one arms the timer again
    }
    if (Clock::now() < state->at) {
      state->timer.expires_at(state->at);  // moved later while this wait ran
      waitFor(state);
      return;
    }
    state->expired = true;
    beast::error_code ignored;
    state->stream->socket().cancel(ignored);
  });
}

void ConnectionDeadline::expiresAt(Clock::time_point at) {
  auto& state = *state_;
  state.at = at;
  state.expired = false;
  if (state.waiting && state.timer.expiry() <= at) {
    return;  // the wait in flight fires first and re-arms for `at`
  }
  state.timer.expires_at(at);  // cancels a later wait; its handler sees a new generation
  waitFor(state_);
}

void ConnectionDeadline::never() {
  state_->at = Clock::time_point::max();
  state_->expired = false;
}

void ConnectionDeadline::stop() {
  never();
  if (state_->waiting) {
    state_->waiting = false;
    ++state_->generation;  // the cancelled wait's handler then does nothing
    state_->timer.cancel();
  }
}

bool ConnectionDeadline::expired() const { return state_->expired; }

beast::error_code ConnectionDeadline::reason(const beast::error_code& ec) const {
  if (ec == net::error::operation_aborted && state_->expired) {
    return beast::error::timeout;
  }
  return ec;
}

}  // namespace portico
