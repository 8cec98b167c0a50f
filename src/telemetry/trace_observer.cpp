#include "telemetry/trace_observer.hpp"

#include <atomic>
#include <list>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "telemetry/trace_context.hpp"

namespace portico::telemetry {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// What an attempt's span needs, kept until its request ends (the views it saw die with the
// callback, so the strings are copies).
struct AttemptRecord {
  std::uint64_t span_id = 0;
  std::string provider;
  std::string model;
  std::string option_index;
  std::string error_type;
  int status = 0;
  int retry = 0;
  std::optional<Usage> usage;
  SteadyTime started;
  SteadyTime ended;
};

// The attempts of the requests a worker is serving for one observer, oldest first, keyed by
// server span id.
class OpenRequests {
 public:
  using Key = std::uint64_t;
  struct Entry {
    Key key;
    std::vector<AttemptRecord> attempts;
  };

  // The entry for `key`, made if needed; an eviction's spans are added to `evicted`.
  Entry& at(const Key& key, std::size_t max_entries, std::uint64_t& evicted) {
    if (auto found = index_.find(key); found != index_.end()) {
      return *found->second;
    }
    while (!entries_.empty() && entries_.size() >= max_entries) {
      evicted += entries_.front().attempts.size();
      index_.erase(entries_.front().key);
      entries_.pop_front();
    }
    entries_.push_back({key, {}});
    index_.emplace(key, std::prev(entries_.end()));
    return entries_.back();
  }

  std::vector<AttemptRecord> take(const Key& key) {
    auto found = index_.find(key);
    if (found == index_.end()) {
      return {};
    }
    std::vector<AttemptRecord> attempts = std::move(found->second->attempts);
    entries_.erase(found->second);
    index_.erase(found);
    return attempts;
  }

 private:
  std::list<Entry> entries_;
  std::unordered_map<Key, std::list<Entry>::iterator> index_;
};

// One table per observer (by id, not address: a new observer may reuse a dead one's address).
OpenRequests& openRequests(std::uint64_t observer_id) {
  thread_local std::unordered_map<std::uint64_t, OpenRequests> tables;
  return tables[observer_id];
}

std::atomic<std::uint64_t> next_observer_id{0};

// A span id for an attempt the pipeline gave none (it always should).
std::uint64_t freshSpanId() {
  thread_local std::mt19937_64 random = seededRandom();
  return newSpanId(random);
}

// Exported times are wall-clock: the request's wall start plus the steady time since.
std::uint64_t unixNano(const RequestInfo& request, SteadyTime at) {
  const auto since = at > request.started ? at - request.started : SteadyTime::duration{0};
  const auto wall =
      request.wall_started + std::chrono::duration_cast<std::chrono::system_clock::duration>(since);
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
  return nanos > 0 ? static_cast<std::uint64_t>(nanos) : 0;
}

void addUsage(std::vector<Attribute>& attributes, const std::optional<Usage>& usage) {
  if (!usage) {
    return;
  }
  auto add = [&](const char* key, const std::optional<std::int64_t>& count) {
    if (count) {
      attributes.push_back({key, *count});
    }
  };
  add("gen_ai.usage.input_tokens", usage->prompt_tokens);
  add("gen_ai.usage.output_tokens", usage->completion_tokens);
  add("gen_ai.usage.cache_read.input_tokens", usage->cached_tokens);
  add("gen_ai.usage.reasoning.output_tokens", usage->reasoning_tokens);
}

void addText(std::vector<Attribute>& attributes, const char* key, std::string_view value) {
  if (!value.empty()) {
    attributes.push_back({key, std::string(value)});
  }
}

std::vector<std::string> splitReasons(std::string_view text) {
  std::vector<std::string> reasons;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) {
      reasons.emplace_back(text.substr(0, comma));
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return reasons;
}

}  // namespace

std::string_view genAiOperationName(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kMessages:
    case Endpoint::kResponses:
      return "chat";
    case Endpoint::kCompletions:
      return "text_completion";
    case Endpoint::kEmbeddings:
      return "embeddings";
    case Endpoint::kPassthrough:
      break;
  }
  return "proxy";
}

TraceObserver::TraceObserver(std::shared_ptr<SpanSink> sink,
                             ProviderNamer provider_name,
                             TraceObserverOptions options)
    : sink_(std::move(sink)),
      provider_name_(std::move(provider_name)),
      options_(options),
      id_(++next_observer_id) {}

std::string_view TraceObserver::providerName(std::string_view provider) const {
  return provider_name_ ? provider_name_(provider) : provider;
}

void TraceObserver::attemptEnded(const RequestInfo& request, const AttemptInfo& attempt) {
  if (!request.trace.sampled) {
    return;
  }
  std::uint64_t evicted = 0;
  auto& entry =
      openRequests(id_).at(request.trace.span_id, options_.max_open_requests_per_thread, evicted);
  if (evicted > 0) {
    sink_->countDropped(evicted);
  }
  if (entry.attempts.size() >= options_.max_attempts_per_request) {
    sink_->countDropped(1);
    return;
  }
  entry.attempts.push_back({.span_id = attempt.span_id != 0 ? attempt.span_id : freshSpanId(),
                            .provider = std::string(attempt.provider),
                            .model = std::string(attempt.model),
                            .option_index = std::string(attempt.option_index),
                            .error_type = std::string(attempt.error_type),
                            .status = attempt.status,
                            .retry = attempt.retry,
                            .usage = attempt.usage,
                            .started = attempt.started,
                            .ended = std::chrono::steady_clock::now()});
}

void TraceObserver::requestEnded(const RequestInfo& request, const RequestOutcome& outcome) {
  if (!request.trace.sampled) {
    return;
  }
  std::vector<AttemptRecord> attempts = openRequests(id_).take(request.trace.span_id);
  const std::string_view operation = genAiOperationName(request.endpoint);

  for (std::size_t i = 0; i < attempts.size(); ++i) {
    AttemptRecord& attempt = attempts[i];
    const bool last = i + 1 == attempts.size();
    Span span;
    span.trace_id = request.trace.trace_id;
    span.span_id = attempt.span_id;
    span.parent_span_id = request.trace.span_id;
    span.kind = SpanKind::kClient;
    span.name = attempt.model.empty() ? std::string(operation)
                                      : std::string(operation) + " " + attempt.model;
    span.start_unix_nano = unixNano(request, attempt.started);
    // A stream's attempt lasts until the stream ends, not until its first bytes.
    span.end_unix_nano =
        unixNano(request, last && outcome.streamed ? outcome.ended : attempt.ended);
    auto& attributes = span.attributes;
    attributes.push_back({"gen_ai.operation.name", std::string(operation)});
    addText(attributes, "gen_ai.provider.name", providerName(attempt.provider));
    addText(attributes, "gen_ai.request.model", attempt.model);
    if (last) {
      addText(attributes, "gen_ai.response.id", outcome.response_id);
      addText(attributes, "gen_ai.response.model", outcome.response_model);
      if (auto reasons = splitReasons(outcome.finish_reasons); !reasons.empty()) {
        attributes.push_back({"gen_ai.response.finish_reasons", std::move(reasons)});
      }
      addUsage(attributes, outcome.usage ? outcome.usage : attempt.usage);
    } else {
      addUsage(attributes, attempt.usage);
    }
    if (attempt.status != 0) {
      attributes.push_back({"http.response.status_code", std::int64_t{attempt.status}});
    }
    std::string error_type = attempt.error_type;
    if (error_type.empty() && attempt.status >= 400) {
      error_type = std::to_string(attempt.status);
    }
    if (error_type.empty() && last && outcome.stream_broken) {
      error_type = "broken";
    }
    if (!error_type.empty()) {
      attributes.push_back({"error.type", std::move(error_type)});
      span.error = true;
    }
    attributes.push_back({"portico.retry", std::int64_t{attempt.retry}});
    addText(attributes, "portico.option_index", attempt.option_index);
    sink_->submit(std::move(span));
  }

  Span server;
  server.trace_id = request.trace.trace_id;
  server.span_id = request.trace.span_id;
  server.parent_span_id = request.trace.parent_span_id;
  server.parent_is_remote = request.trace.parent_span_id != 0;
  server.kind = SpanKind::kServer;
  // The HTTP conventions name a server span by its route; passthrough paths are not routes
  // (they carry ids), so those spans take the method alone.
  const bool routed = request.endpoint != Endpoint::kPassthrough;
  server.name = routed ? std::string(request.method) + " " + std::string(request.path)
                       : std::string(request.method);
  server.start_unix_nano = unixNano(request, request.started);
  server.end_unix_nano = unixNano(request, outcome.ended);
  auto& attributes = server.attributes;
  addText(attributes, "http.request.method", request.method);
  addText(attributes, "url.path", request.path);
  attributes.push_back({"url.scheme", std::string("http")});
  if (routed) {
    addText(attributes, "http.route", request.path);
  }
  attributes.push_back({"http.response.status_code", std::int64_t{outcome.status}});
  attributes.push_back({"gen_ai.operation.name", std::string(operation)});
  if (!outcome.provider.empty()) {
    addText(attributes, "gen_ai.provider.name", providerName(outcome.provider));
  }
  addText(attributes, "gen_ai.request.model", outcome.model);
  addUsage(attributes, outcome.usage);
  addText(attributes, "portkey.trace_id", request.trace_id);
  addText(attributes, "portico.virtual_key", request.virtual_key);
  addText(attributes, "portico.cache_status", outcome.cache_status);
  attributes.push_back({"portico.retry_count", std::int64_t{outcome.retry_count}});
  if (outcome.streamed) {
    attributes.push_back({"portico.streamed", true});
  }
  // Server spans: 5xx are errors, 4xx the caller's (HTTP conventions).
  if (outcome.status >= 500) {
    attributes.push_back({"error.type", std::to_string(outcome.status)});
    server.error = true;
  } else if (outcome.stream_broken) {
    attributes.push_back({"error.type", std::string("broken")});
    server.error = true;
  }
  sink_->submit(std::move(server));
}

}  // namespace portico::telemetry
