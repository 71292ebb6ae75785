// draws.h: what a stochastic op (dropout) draws from, and the draw itself, the same on the CPU and
// in a CUDA kernel. A training batch draws from the job's seed, the epoch and each sample's index
// in the training set, never from a stream that a rank advances: a sample gets the same draw
// whichever rank, slice or device computes it, so W workers train as one process does.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define TFMATH_DRAW_FN __host__ __device__ inline
#else
#define TFMATH_DRAW_FN inline
#endif

namespace tfmath {

// The draws of one batch. Evaluation (training = false) draws nothing: dropout is the identity.
struct BatchDraws {
  bool training = false;
  uint64_t seed = 0;
  uint32_t epoch = 0;
  // Per sample of the batch, its index in the training set: host memory for an ops/ layer, device
  // memory for a kernels/ layer.
  const uint32_t* samples = nullptr;
};

// SplitMix64's finaliser: every input bit flips each output bit with probability about 1/2.
TFMATH_DRAW_FN uint64_t mixBits(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 64 random bits for element `element` of sample `sample` in epoch `epoch`, at the job layer
// `layer` (so two dropout layers draw apart), under `seed`: a counter-based draw, a pure function
// of its arguments.
TFMATH_DRAW_FN uint64_t drawBits(uint64_t seed, uint32_t layer, uint32_t epoch, uint32_t sample,
                                 uint32_t element) {
  uint64_t h = mixBits(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(layer) + 1)));
  h = mixBits(h ^ ((static_cast<uint64_t>(epoch) << 32) | sample));
  return mixBits(h + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(element) + 1));
}

// Dropout with rate r keeps an element when the top 32 bits of its draw, as a fraction of 2³²,
// are at least r: `threshold` = ⌊r·2³²⌋ (dropThreshold). Integers only, so both devices agree.
TFMATH_DRAW_FN bool dropoutKeeps(uint64_t bits, uint32_t threshold) {
  return static_cast<uint32_t>(bits >> 32) >= threshold;
}

inline uint32_t dropThreshold(double rate) {
  return static_cast<uint32_t>(rate * 4294967296.0);  // rate < 1, so below 2³²
}

}  // namespace tfmath
