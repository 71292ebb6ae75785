# metrics.capnp: a job's metrics history: points over windows of training steps, and one point per
# epoch with its evaluation. `tfmath run` writes it beside its parameter file; `tfmath metrics`
# prints it. A file is a sequence of MetricsPoint messages, appended one at a time.
@0xa0da74b735b73423;
$import "/capnp/c++.capnp".namespace("tfmath::proto");

struct MetricsPoint {
  kind @0 :Kind;
  # What the point covers.

  rank @1 :UInt32;
  # The rank that measured it: step and allreduce times are each rank's own.

  epoch @2 :UInt32;
  # The epoch the point ends in, 0-based.

  step @3 :UInt64;
  # Optimizer steps done since the start of training, at the point's end.

  steps @4 :UInt32;
  # Steps the window covers; 0 for an epoch point.

  timeMs @5 :Int64;
  # Wall-clock milliseconds since 1970 at the point's end.

  trainLoss @6 :Float64;
  # Mean training loss per sample over the window (a window) or the epoch (an epoch point).

  samplesPerSecond @7 :Float64;
  # Global training samples per second over the window or the epoch.

  stepSeconds @8 :Float64;
  # Mean wall time of one step on this rank, in seconds; 0 for an epoch point.

  allreduceSeconds @9 :Float64;
  # Mean time per step this rank spent in the gradients' allreduce, in seconds.

  inputSeconds @10 :Float64;
  # Mean time per step this rank spent gathering and staging its input, in seconds.

  testLoss @11 :Float64;
  # An epoch point's evaluation loss (on the test set, or the training set without one); NaN else.

  testAccuracy @12 :Float64;
  # An epoch point's evaluation accuracy, a fraction; NaN for regression and for windows.

  enum Kind {
    window @0;
    # A run of consecutive steps within one epoch.
    epoch @1;
    # The end of an epoch, with its evaluation.
  }
}

struct MetricsSeries {
  # A whole history in one message, as `tfmath metrics` reads it.
  points @0 :List(MetricsPoint);
  # Oldest first.
}
