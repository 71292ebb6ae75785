# params.capnp: the parameter state of a job, enough to resume it bit for bit. One message serves as
# checkpoint, final result and `tfmath run --resume` file. Written atomically (temp, fsync, rename).
@0xb0f3a4c1d2e59687;
$import "/capnp/c++.capnp".namespace("tfmath::proto");
using import "job.capnp".Job;

const parameterStateVersion :UInt32 = 1;
# The ParameterState layout this build writes, and the only one it reads.

struct ParameterState {
  jobId @0 :Text;
  # The coordinator's id of the job; empty for `tfmath run`.

  job @1 :Job;
  # The job as it was trained, data paths resolved.

  step @2 :UInt64;
  # Optimizer steps completed since the start of training.

  epoch @3 :UInt32;
  # Whole epochs completed. Steps into the current epoch are `step` minus the steps of these epochs.

  tensors @4 :List(Tensor);
  # The model's parameters, in model order.

  optimizerSlots @5 :List(Tensor);
  # The optimizer's per-parameter state, named PARAM/SLOT (e.g. layer0.w/momentum, layer0.w/adam.m).

  rngState @6 :UInt64;
  # State of the trainer's random stream after the last step.

  metrics @7 :Metrics;
  # The figures measured when this state was written.

  formatVersion @8 :UInt32;
  # The layout's version: parameterStateVersion when written. A reader refuses a version it does
  # not know; 0 (a file written before this field) reads as 1.

  epochLossSum @9 :Float64;
  # The sum of the per-sample losses over the steps of the current epoch done so far: a run resumed
  # mid-epoch ends the epoch with the mean loss an unbroken run reports.
}

struct Tensor {
  # A named float32 tensor.

  name @0 :Text;
  # e.g. layer0.w (weights) or layer0.b (bias).

  shape @1 :List(UInt32);
  # Sizes, outermost first; the data is contiguous, row-major.

  data @2 :Data;
  # The elements as little-endian IEEE-754 float32, product(shape) × 4 bytes.
}

struct Metrics {
  # Figures at the time the state was written. NaN where not measured.

  trainLoss @0 :Float64;
  # Mean training loss over the last epoch's steps.

  testLoss @1 :Float64;
  # Mean loss over the test set (or the training set when there is no test set).

  testAccuracy @2 :Float64;
  # Fraction of test samples classified correctly; NaN for regression.

  samplesPerSecond @3 :Float64;
  # Training throughput over the whole run.
}
