#pragma once

#include <chrono>
#include <exception>
#include <vector>

#include "portico/observer.hpp"

namespace portico::proxy {

// The observers of one worker, called in order. No allocation, no lock: a vector of pointers
// fixed at start-up. An observer that throws (out of memory copying a string) neither fails
// the request nor keeps the observers after it from seeing the call.
class ObserverList {
 public:
  void add(Observer* observer) { observers_.push_back(observer); }
  bool empty() const { return observers_.empty(); }

  void requestStarted(const RequestInfo& r) const {
    each([&](Observer* o) { o->requestStarted(r); });
  }
  void attemptStarted(const RequestInfo& r, const AttemptInfo& a) const {
    each([&](Observer* o) { o->attemptStarted(r, a); });
  }
  void upstreamAnswered(const RequestInfo& r, const AttemptInfo& a) const {
    each([&](Observer* o) { o->upstreamAnswered(r, a); });
  }
  void firstByte(const RequestInfo& r, const AttemptInfo& a) const {
    each([&](Observer* o) { o->firstByte(r, a); });
  }
  void attemptEnded(const RequestInfo& r, const AttemptInfo& a) const {
    each([&](Observer* o) { o->attemptEnded(r, a); });
  }
  void retrying(const RequestInfo& r, const AttemptInfo& a, std::chrono::milliseconds d) const {
    each([&](Observer* o) { o->retrying(r, a, d); });
  }
  void fellBack(const RequestInfo& r,
                std::string_view provider,
                std::string_view from_index,
                int status) const {
    each([&](Observer* o) { o->fellBack(r, provider, from_index, status); });
  }
  void cacheLooked(const RequestInfo& r, std::string_view status) const {
    each([&](Observer* o) { o->cacheLooked(r, status); });
  }
  void streamStarted(const RequestInfo& r, const RequestOutcome& answer) const {
    each([&](Observer* o) { o->streamStarted(r, answer); });
  }
  void requestEnded(const RequestInfo& r, const RequestOutcome& outcome) const {
    each([&](Observer* o) { o->requestEnded(r, outcome); });
  }

 private:
  template <class Call>
  void each(const Call& call) const {
    for (auto* o : observers_) {
      try {
        call(o);
      } catch (const std::exception&) {
        // Nothing to do on the request path; the observer lost one event.
      }
    }
  }

  std::vector<Observer*> observers_;
};

}  // namespace portico::proxy
