// keys::PriceTable: the shipped table, prefix matching, costs, overrides from a file.

#include "keys/price_table.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace portico::keys {
namespace {

TEST(PriceTable, TheShippedTableHasADateAndTheCommonModels) {
  const PriceTable table = PriceTable::builtIn();
  EXPECT_FALSE(table.date().empty());
  for (const char* model : {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gemini-2.5-flash",
                            "command-r", "text-embedding-3-small"}) {
    EXPECT_TRUE(table.find(model)) << model;
  }
}

TEST(PriceTable, DatedAndPrefixedNamesFindTheirRow) {
  const PriceTable table = PriceTable::builtIn();
  EXPECT_DOUBLE_EQ(table.find("gpt-4o-2024-08-06")->input, 2.5);
  EXPECT_DOUBLE_EQ(table.find("gpt-4o-mini-2024-07-18")->input, 0.15);  // the longer row
  EXPECT_DOUBLE_EQ(table.find("claude-3-5-haiku-20241022")->output, 4);
  EXPECT_DOUBLE_EQ(table.find("models/gemini-2.5-flash")->output, 2.5);
  EXPECT_DOUBLE_EQ(table.find("anthropic.claude-3-5-haiku-20241022-v1:0")->output, 4);
  EXPECT_DOUBLE_EQ(table.find("us.anthropic.claude-sonnet-4-20250514-v1:0")->input, 3);
  EXPECT_FALSE(table.find("my-own-model"));
  EXPECT_FALSE(table.find(""));
}

TEST(PriceTable, CostCountsCachedPromptTokensAtTheirRate) {
  const PriceTable table = PriceTable::builtIn();
  Usage usage{1'000'000, 1'000'000, 400'000};
  // 600k fresh at 2.5, 400k cached at 1.25, 1M out at 10.
  EXPECT_NEAR(table.cost("gpt-4o", usage), 1.5 + 0.5 + 10, 1e-9);
  EXPECT_EQ(table.cost("unknown-model", usage), 0);
}

TEST(PriceTable, AFileOverridesRowsAndAddsModels) {
  const auto file = std::filesystem::temp_directory_path() / "portico-prices-test.json";
  {
    std::ofstream out(file);
    out << R"({"date": "2027-01-01", "models": {"gpt-4o": {"input": 1, "output": 2},
              "my-own-model": {"input": 3, "output": 4}}})";
  }
  const PriceTable table = PriceTable::withOverrides(file);
  std::filesystem::remove(file);
  EXPECT_EQ(table.date(), "2027-01-01");
  EXPECT_DOUBLE_EQ(table.find("gpt-4o")->input, 1);
  EXPECT_DOUBLE_EQ(table.find("my-own-model")->output, 4);
  EXPECT_TRUE(table.find("claude-sonnet-4"));  // the rest stays
}

TEST(PriceTable, ABadFileIsRefusedWithItsProblem) {
  const auto file = std::filesystem::temp_directory_path() / "portico-prices-bad.json";
  {
    std::ofstream out(file);
    out << R"({"models": {"gpt-4o": {"input": -1}}})";
  }
  EXPECT_THROW(PriceTable::withOverrides(file), std::runtime_error);
  std::filesystem::remove(file);
  EXPECT_THROW(PriceTable::withOverrides(file), std::runtime_error);  // missing
}

}  // namespace
}  // namespace portico::keys
