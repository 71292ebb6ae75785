// op_math.h: the math an op carries with it: its forward rule and each gradient, in LaTeX, and
// where each device implements it.
// Every op and optimizer defines one next to its code; registry.cc lists them all.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tfmath {

struct OpMath {
  std::string name;     // as in the job schema, e.g. "dense", "sgd"
  std::string kind;     // "layer", "activation", "loss", "optimizer", "clip" or "schedule"
  std::string summary;  // one line in words
  std::string forward;  // LaTeX: the forward rule (an optimizer's update, a schedule's factor)
  std::vector<std::pair<std::string, std::string>> gradients;  // (with respect to, LaTeX)
  std::string shapes;                                          // shapes and conventions, in words
  // Where its forward and backward (or update) live on each device, from the repository root:
  // the CPU's ops/*.cc and the GPU's kernels/*.cu (host entry points in the matching .cuh). A
  // schedule has no gpu: the host computes it for both devices.
  std::string cpu, gpu;
};

}  // namespace tfmath
