// version.h: tfmath's version, in one place for `tfmath --version` and the tfmath_build_info
// metric.
#pragma once

namespace tfmath {

inline constexpr const char* kTfmathVersion = "0.1.0";

}  // namespace tfmath
