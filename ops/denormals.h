// denormals.h: flush-to-zero for the threads that compute. Float results below ~1.2e-38 (the
// smallest normal float) become 0, and such inputs read as 0, as in TensorFlow. Without this, the
// tiny gradients and momenta a model accumulates after its first epoch run through the CPU's slow
// denormal path: a float32 MLP then trains at about 0.7× its first-epoch speed on x86.
// Per thread: the setting lives in the thread's floating-point control register.
#pragma once

namespace tfmath {

// Sets flush-to-zero and denormals-are-zero on the calling thread (MXCSR on x86, FPCR.FZ on Arm).
// Cheap when already set. Every thread that trains calls it before it computes.
void flushDenormalsToZero();

// True when the calling thread flushes denormals to zero.
bool denormalsFlushToZero();

}  // namespace tfmath
