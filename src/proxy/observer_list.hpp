#pragma once

#include <chrono>
#include <vector>

#include "portico/observer.hpp"

namespace portico::proxy {

// The observers of one worker, called in order. No allocation, no lock: a vector of pointers
// fixed at start-up.
class ObserverList {
 public:
  void add(Observer* observer) { observers_.push_back(observer); }
  bool empty() const { return observers_.empty(); }

  void requestStarted(const RequestInfo& r) const {
    for (auto* o : observers_) o->requestStarted(r);
  }
  void attemptStarted(const RequestInfo& r, const AttemptInfo& a) const {
    for (auto* o : observers_) o->attemptStarted(r, a);
  }
  void upstreamAnswered(const RequestInfo& r, const AttemptInfo& a) const {
    for (auto* o : observers_) o->upstreamAnswered(r, a);
  }
  void firstByte(const RequestInfo& r, const AttemptInfo& a) const {
    for (auto* o : observers_) o->firstByte(r, a);
  }
  void attemptEnded(const RequestInfo& r, const AttemptInfo& a) const {
    for (auto* o : observers_) o->attemptEnded(r, a);
  }
  void retrying(const RequestInfo& r, const AttemptInfo& a, std::chrono::milliseconds d) const {
    for (auto* o : observers_) o->retrying(r, a, d);
  }
  void fellBack(const RequestInfo& r,
                std::string_view provider,
                std::string_view from_index,
                int status) const {
    for (auto* o : observers_) o->fellBack(r, provider, from_index, status);
  }
  void cacheLooked(const RequestInfo& r, std::string_view status) const {
    for (auto* o : observers_) o->cacheLooked(r, status);
  }
  void streamStarted(const RequestInfo& r) const {
    for (auto* o : observers_) o->streamStarted(r);
  }
  void requestEnded(const RequestInfo& r, const RequestOutcome& outcome) const {
    for (auto* o : observers_) o->requestEnded(r, outcome);
  }

 private:
  std::vector<Observer*> observers_;
};

}  // namespace portico::proxy
