#pragma once

// Records and usage rows the key store tests write, and the member-by-member comparison they
// check round trips with. Header-only; shared by every store's tests.

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "keys/virtual_key.hpp"

namespace portico::keys::samples {

// Every member set to something other than its default.
inline KeyRecord fullRecord(const std::string& id, const std::string& name) {
  using nlohmann::json;
  KeyRecord r;
  r.id = id;
  r.name = name;
  r.provider = "openai";
  r.key_hash = std::string(64, 'a') + id;  // unique per id
  r.key_prefix = "pk-01234567";
  r.secrets = SealedSecrets{"c2VhbGVk", "0123456789abcdef"};
  r.fields = json{{"aws_region", "eu-west-1"}, {"nested", {{"n", 1}}}};
  r.custom_host = "https://llm.internal.example";
  r.config = json{{"retry", {{"attempts", 3}}}};
  r.models = {"gpt-4o", "gpt-4o-mini*"};
  r.rpm = 60;
  r.tpm = 100000;
  r.budget = Budget{12.5, 2000000, BudgetPeriod::kMonth};
  r.expires_at = 1900000000;
  r.enabled = false;
  r.metadata = json{{"team", "search"}, {"tags", {"a", "b"}}};
  r.created_at = 1700000000;
  r.updated_at = 1700000100;
  return r;
}

inline void expectSameRecord(const KeyRecord& a, const KeyRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.key_hash, b.key_hash);
  EXPECT_EQ(a.key_prefix, b.key_prefix);
  EXPECT_EQ(a.secrets.sealed, b.secrets.sealed);
  EXPECT_EQ(a.secrets.master_key_id, b.secrets.master_key_id);
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.custom_host, b.custom_host);
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.models, b.models);
  EXPECT_EQ(a.rpm, b.rpm);
  EXPECT_EQ(a.tpm, b.tpm);
  EXPECT_EQ(a.budget.usd, b.budget.usd);
  EXPECT_EQ(a.budget.tokens, b.budget.tokens);
  EXPECT_EQ(a.budget.period, b.budget.period);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

inline UsageRow usageRow(const std::string& key_id,
                         const std::string& day,
                         const std::string& model,
                         std::int64_t requests) {
  return UsageRow{key_id, day, model, requests, 10 * requests, 5 * requests, requests, 0.25};
}

}  // namespace portico::keys::samples
