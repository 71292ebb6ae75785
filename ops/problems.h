// problems.h: what a check of user input collects: one message per problem, each starting with the
// field it names ("model[2].dense.units: must be > 0"), so that a user sees every problem at once.
#pragma once

#include <string>
#include <vector>

namespace tfmath {

class Problems {
 public:
  // Records "field: message" unless `ok`. Returns ok.
  bool check(bool ok, const std::string& field, const std::string& message) {
    if (!ok) list.push_back(field + ": " + message);
    return ok;
  }
  bool empty() const { return list.empty(); }
  std::vector<std::string> list;
};

}  // namespace tfmath
