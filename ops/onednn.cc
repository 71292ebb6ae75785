// onednn.cc: the process's oneDNN CPU engine.
#include "ops/onednn.h"

namespace tfmath {

dnnl::engine& onednnEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace tfmath
