#pragma once

#include <string>
#include <vector>

namespace portico::redis {

// One Redis answer, copied out of hiredis's reply (which it frees once the callback returns).
struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string text;  // a string, a status ("OK") or an error's message
  long long integer = 0;
  std::vector<Reply> elements;

  bool isError() const { return type == Type::kError; }
  // The integer of element `i` of an array reply (0 when it is not one).
  long long integerAt(std::size_t i) const {
    return i < elements.size() && elements[i].type == Type::kInteger ? elements[i].integer : 0;
  }
};

}  // namespace portico::redis
