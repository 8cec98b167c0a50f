#pragma once

// Reads fixtures from tests/data. Header-only so that the socket-free unit tests can use it.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace portico::testing {

// The bytes of tests/data/<dir>/<name>; records a test failure when the file is missing.
inline std::string readTestData(const std::string& dir, const std::string& name) {
  std::ifstream in(std::string(PORTICO_TEST_DATA_DIR) + "/" + dir + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << dir << "/" << name;
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace portico::testing
