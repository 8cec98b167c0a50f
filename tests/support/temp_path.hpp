#pragma once

// A fresh path under the system temp directory, unique per process, test and call, for tests
// that need a data directory or a file of their own. Header-only; nothing is created.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace portico::testing {

inline std::filesystem::path uniqueTempPath(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::filesystem::temp_directory_path() /
         (prefix + "_" + (test != nullptr ? test->name() : "none") + "_" +
          std::to_string(::getpid()) + "_" + std::to_string(counter++));
}

}  // namespace portico::testing
