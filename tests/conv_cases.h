// conv_cases.h: the convolution shapes the engine tests share: valid and same padding, strides
// above 1, a stride past the kernel, and output edges a stride leaves uncovered.
#pragma once

#include <ostream>
#include <vector>

namespace tfmath::testing {

struct ConvCase {
  int h, w, c, filters, kernel, stride;
  bool same;
};

// How ctest names each case, e.g. "9x7x3 f4 k3 s1 valid".
inline void PrintTo(const ConvCase& k, std::ostream* os) {
  *os << k.h << "x" << k.w << "x" << k.c << " f" << k.filters << " k" << k.kernel << " s"
      << k.stride << (k.same ? " same" : " valid");
}

inline const std::vector<ConvCase> kConvCases{
    {9, 7, 3, 4, 3, 1, false},  {9, 7, 3, 4, 3, 1, true},
    {10, 11, 2, 5, 3, 2, true}, {10, 11, 2, 5, 3, 2, false},  // uncovered edge
    {9, 9, 2, 3, 2, 3, false},                                // stride > kernel
    {28, 28, 1, 8, 5, 1, true},
};

}  // namespace tfmath::testing
