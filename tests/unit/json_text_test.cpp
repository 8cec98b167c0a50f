#include "portico/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace portico::json_text {
namespace {

std::string nlohmannText(std::string_view text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string written(std::string_view text) {
  std::string out = "x";  // appended to, never replaced
  appendString(out, text);
  return out.substr(1);
}

TEST(JsonText, EveryByteAloneIsWrittenAsNlohmannWritesIt) {
  for (int c = 0; c < 256; ++c) {
    const std::string text(1, static_cast<char>(c));
    EXPECT_EQ(written(text), nlohmannText(text)) << "byte " << c;
    const std::string framed = "a" + text + "\"b\\";
    EXPECT_EQ(written(framed), nlohmannText(framed)) << "byte " << c;
  }
}

TEST(JsonText, EscapesAndUtf8AreWrittenAsNlohmannWritesThem) {
  static constexpr char kControls[] = "\x01\x1f\x7f nul\0after";
  for (std::string_view text : {
           std::string_view(""),
           std::string_view("Hello! How can I help you today?"),
           std::string_view("line one\nline two\r\n\ttabbed \"quoted\" back\\slash"),
           std::string_view(kControls, sizeof kControls - 1),  // the NUL included
           std::string_view("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87"),
           std::string_view("broken \xc3 here"),
           std::string_view("overlong \xc0\xaf and \xed\xa0\x80 surrogate"),
           std::string_view("cut at the end \xf0\x9f\x98"),
       }) {
    EXPECT_EQ(written(text), nlohmannText(text)) << text;
  }
}

TEST(JsonText, WhatIsWrittenReadsBackAsTheText) {
  const std::string text = "a\"b\\c\nd\x02\xc3\xa9";
  EXPECT_EQ(nlohmann::json::parse(written(text)).get<std::string>(), text);
}

}  // namespace
}  // namespace portico::json_text
