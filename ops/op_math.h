// op_math.h: the math an op carries with it: its forward rule and each gradient, in LaTeX.
// Every op and optimizer defines one next to its code; registry.cc lists them all.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tfmath {

struct OpMath {
  std::string name;     // as in the job schema, e.g. "dense", "sgd"
  std::string kind;     // "layer", "activation", "loss" or "optimizer"
  std::string summary;  // one line in words
  std::string forward;  // LaTeX: the forward rule (for an optimizer, the update)
  std::vector<std::pair<std::string, std::string>> gradients;  // (with respect to, LaTeX)
  std::string shapes;                                          // shapes and conventions, in words
};

}  // namespace tfmath
