// onednn.h: what the ops that run through oneDNN share: its CPU engine, made once per process.
// Included only by ops/*_onednn.cc, which the build compiles when it has oneDNN.
#pragma once

#include <dnnl.hpp>

namespace tfmath {

dnnl::engine& onednnEngine();

}  // namespace tfmath
