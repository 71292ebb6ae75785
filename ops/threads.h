// threads.h: how many threads the ops compute with: GEMMs (OpenBLAS) and oneDNN's convolutions.
// One per process unless a command sets more; the ops apply it before they run.
#pragma once

namespace tfmath {

// The count set, 1 until set.
int computeThreads();
// What a process that is not told computes with: OMP_NUM_THREADS when it holds a count ≥ 1 (the
// convention of OpenMP, PyTorch and nproc), else the CPUs this process may run on (its affinity
// mask: a worker pinned to its slot's cores sees those), at least 1.
int defaultComputeThreads();
// n ≥ 1. Takes effect at each op's next call, on any thread.
void setComputeThreads(int n);
// Makes the calling thread's OpenMP team (oneDNN's) and OpenBLAS use computeThreads(). Cheap when
// nothing changed; the ops call it before each pass.
void applyComputeThreads();

}  // namespace tfmath
