#include "keys/usage_recorder.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace portico::keys {

std::string utcDay(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

UsageRecorder::UsageRecorder(std::size_t capacity, std::size_t max_kept_rows)
    : queue_(128), capacity_(capacity), max_kept_rows_(max_kept_rows) {}

UsageRecorder::~UsageRecorder() {
  UsageEvent* event = nullptr;
  while (queue_.pop(event)) {
    delete event;
  }
}

void UsageRecorder::record(UsageEvent event) {
  if (pending_.fetch_add(1) >= capacity_) {
    pending_.fetch_sub(1);
    lost_.fetch_add(1);
    return;
  }
  auto owned = std::make_unique<UsageEvent>(std::move(event));
  if (queue_.push(owned.get())) {
    owned.release();
  } else {
    pending_.fetch_sub(1);
    lost_.fetch_add(1);
  }
}

std::size_t UsageRecorder::keptRows() const {
  std::lock_guard lock(flush_mutex_);
  return kept_.size();
}

std::size_t UsageRecorder::flush(KeyStore& store) {
  std::lock_guard lock(flush_mutex_);
  using RowKey = std::tuple<std::string, std::string, std::string>;
  std::map<RowKey, UsageRow> rows;
  // Kept rows were not written at all (addUsage is one transaction), so they add up with the
  // new events like any other.
  for (UsageRow& row : kept_) {
    RowKey key{row.key_id, row.day, row.model};
    rows.emplace(std::move(key), std::move(row));
  }
  kept_.clear();
  std::size_t count = 0;
  UsageEvent* raw = nullptr;
  while (queue_.pop(raw)) {
    std::unique_ptr<UsageEvent> event(raw);
    pending_.fetch_sub(1);
    ++count;
    std::string day = utcDay(event->at);
    UsageRow& row = rows[{event->key_id, day, event->model}];
    if (row.key_id.empty()) {
      row.key_id = event->key_id;
      row.day = std::move(day);
      row.model = event->model;
    }
    row.requests += 1;
    row.prompt_tokens += event->prompt_tokens;
    row.completion_tokens += event->completion_tokens;
    row.cached_tokens += event->cached_tokens;
    row.cost_usd += event->cost_usd;
  }
  if (rows.empty()) {
    return count;
  }
  std::vector<UsageRow> batch;
  batch.reserve(rows.size());
  for (auto& [key, row] : rows) {
    batch.push_back(std::move(row));
  }
  try {
    store.addUsage(batch);
  } catch (...) {
    // Kept for the next flush; past the bound, the rest are dropped (each row counts its
    // requests, one per event).
    for (std::size_t i = max_kept_rows_; i < batch.size(); ++i) {
      lost_.fetch_add(static_cast<std::uint64_t>(batch[i].requests));
    }
    batch.resize(std::min(batch.size(), max_kept_rows_));
    kept_ = std::move(batch);
    throw;
  }
  return count;
}

}  // namespace portico::keys
