#include "keys/key_index.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

#include "keys/key_material.hpp"
#include "keys/usage_recorder.hpp"
#include "portico/json_parse.hpp"

namespace portico::keys {
namespace {

KeyMeter::Limits limitsOf(const KeyRecord& record) {
  return KeyMeter::Limits{record.rpm, record.tpm, record.budget};
}

// The first day of the budget period containing `now`, for summing the store's usage.
std::string periodStartDay(BudgetPeriod period, std::int64_t now) {
  switch (period) {
    case BudgetPeriod::kDay:
      return utcDay(now);
    case BudgetPeriod::kMonth:
      return utcDay(now).substr(0, 8) + "01";
    case BudgetPeriod::kTotal:
      return "";
  }
  return "";
}

bool sameBudget(const Budget& a, const Budget& b) {
  return a.usd == b.usd && a.tokens == b.tokens && a.period == b.period;
}

}  // namespace

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

KeyIndex::KeyIndex(KeyStore& store,
                   std::optional<MasterKey> master,
                   std::function<std::int64_t()> now)
    : store_(store), master_(std::move(master)), now_(now ? std::move(now) : unixNow) {
  keys_.store(std::make_shared<const Map>());
}

std::shared_ptr<KeyMeter> KeyIndex::meterFor(const KeyRecord& record) {
  auto& [meter, budget] = meters_[record.id];
  if (meter && sameBudget(budget, record.budget)) {
    meter->setLimits(limitsOf(record));
    return meter;
  }
  // A key first seen, or its budget changed: what the store says it spent in the (new) period
  // counts. Request and token windows start afresh.
  budget = record.budget;
  meter = std::make_shared<KeyMeter>(limitsOf(record));
  std::int64_t micro_usd = 0;
  std::int64_t tokens = 0;
  const std::int64_t now = now_();
  for (const UsageRow& row :
       store_.usage(record.id, periodStartDay(record.budget.period, now), "")) {
    micro_usd += static_cast<std::int64_t>(row.cost_usd * 1e6);
    tokens += row.prompt_tokens + row.completion_tokens;
  }
  meter->seedSpend(now, micro_usd, tokens);
  return meter;
}

// The secrets of `record`, opened; throws std::runtime_error saying why they do not open.
nlohmann::json KeyIndex::openSecrets(const KeyRecord& record) const {
  if (record.secrets.sealed.empty()) {
    return nlohmann::json::object();
  }
  if (!master_) {
    throw std::runtime_error("virtual key " + record.id +
                             " holds encrypted secrets and no master key is set: set "
                             "PORTICO_MASTER_KEY or --master-key-file");
  }
  auto opened = unseal(*master_, record.secrets.sealed, record.id);
  if (!opened) {
    throw std::runtime_error("the secrets of virtual key " + record.id +
                             " do not open with master key " + master_->id() +
                             ": they were sealed under " + record.secrets.master_key_id);
  }
  nlohmann::json secrets = parseJson(*opened);
  return secrets.is_object() ? secrets : nlohmann::json::object();
}

void KeyIndex::reload(bool strict) {
  std::lock_guard lock(reload_mutex_);
  const std::int64_t generation = store_.generation();
  auto map = std::make_shared<Map>();
  std::map<std::string, std::pair<std::shared_ptr<KeyMeter>, Budget>> kept;
  for (KeyRecord& record : store_.all()) {
    auto live = std::make_shared<LiveKey>();
    try {
      live->secrets = openSecrets(record);
    } catch (const std::runtime_error& e) {
      if (strict) {
        throw;
      }
      // One key that does not open (a rekey under way, another master key) must not stop
      // the others' changes (a disable, a delete) from taking effect: it is left out.
      spdlog::error("virtual key {} left out: {}", record.id, e.what());
      continue;
    }
    record.secrets.sealed.clear();
    live->meter = meterFor(record);
    kept[record.id] = meters_[record.id];
    std::string hash = record.key_hash;
    live->record = std::move(record);
    (*map)[std::move(hash)] = std::move(live);
  }
  meters_ = std::move(kept);
  keys_.store(std::move(map));
  generation_ = generation;
}

std::shared_ptr<const LiveKey> KeyIndex::find(std::string_view presented) const {
  const auto map = keys_.load();
  auto it = map->find(hashKey(presented));
  return it == map->end() ? nullptr : it->second;
}

std::size_t KeyIndex::size() const { return keys_.load()->size(); }

}  // namespace portico::keys
