// denormals.cc: the floating-point control bits behind flushDenormalsToZero().
#include "ops/denormals.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace tfmath {

#if defined(__x86_64__) || defined(__i386__)
namespace {
constexpr unsigned kFlushToZero = 1u << 15;      // MXCSR.FTZ: denormal results become 0
constexpr unsigned kDenormalsAreZero = 1u << 6;  // MXCSR.DAZ: denormal inputs read as 0
constexpr unsigned kBoth = kFlushToZero | kDenormalsAreZero;
}  // namespace

void flushDenormalsToZero() {
  const unsigned csr = _mm_getcsr();
  if ((csr & kBoth) != kBoth) _mm_setcsr(csr | kBoth);
}

bool denormalsFlushToZero() { return (_mm_getcsr() & kBoth) == kBoth; }

#elif defined(__aarch64__)
namespace {
constexpr unsigned long kFlushToZero = 1ul << 24;  // FPCR.FZ: both directions on Arm
unsigned long fpcr() {
  unsigned long value;
  asm volatile("mrs %0, fpcr" : "=r"(value));
  return value;
}
}  // namespace

void flushDenormalsToZero() {
  const unsigned long value = fpcr();
  if (!(value & kFlushToZero)) asm volatile("msr fpcr, %0" : : "r"(value | kFlushToZero));
}

bool denormalsFlushToZero() { return fpcr() & kFlushToZero; }

#else
void flushDenormalsToZero() {}
bool denormalsFlushToZero() { return false; }
#endif

}  // namespace tfmath
