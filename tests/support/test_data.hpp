#pragma once

// Reads fixtures from tests/data. Header-only so that the socket-free unit tests can use it.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace portico::testing {

// tests/data and the built portico binary (defined in the generated test_paths.cpp).
extern const char* const kTestDataDir;
extern const char* const kGatewayBinaryPath;

// The bytes of tests/data/<dir>/<name>; records a test failure when the file is missing.
inline std::string readTestData(const std::string& dir, const std::string& name) {
  std::ifstream in(std::string(kTestDataDir) + "/" + dir + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << dir << "/" << name;
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// `text` cut into pieces of `size` bytes (the last may be shorter), e.g. to send a stream in
// small writes.
inline std::vector<std::string> splitIntoPieces(const std::string& text, std::size_t size) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < text.size(); pos += size) {
    out.push_back(text.substr(pos, size));
  }
  return out;
}

// The payloads of an SSE body made only of "data: ...\n\n" events (an error event may also
// carry "event: error"); a test failure for anything else.
inline std::vector<std::string> strictSsePayloads(const std::string& sse) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < sse.size()) {
    auto end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in: " << sse;
    if (end == std::string::npos) {
      break;
    }
    std::string event = sse.substr(pos, end - pos);
    if (event.starts_with("event: error\n")) {
      event.erase(0, 13);  // the one named event Portico sends: errors
    }
    EXPECT_TRUE(event.starts_with("data: ")) << event;
    out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

}  // namespace portico::testing
