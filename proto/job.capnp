# job.capnp: the schema of a tfmath job file. The schema is the spec: every field says what it means.
# A job file imports it as "/tfmath/job.capnp" and declares `const job :Job = (...)`; see examples/.
@0xd6a0f0b6e8c4a7e1;
$import "/capnp/c++.capnp".namespace("tfmath::proto");

struct Job {
  # One training job: where the data comes from, the model, the loss, the optimizer and the schedule.

  name @0 :Text;
  # A short human name, shown by `tfmath-status`. Need not be unique. Printable UTF-8 without
  # control characters, at most 256 bytes.

  seed @1 :UInt64;
  # Seeds everything random: initial weights, synthetic data and the per-epoch sample order. The same
  # job and seed give the same parameters bit for bit on the same build.

  data @2 :DataSource;
  # The training set and, where it has one, the test set.

  model @3 :List(Layer);
  # The layers, applied in order to each sample. Shapes are inferred from the data.

  loss @4 :Loss;
  # The per-sample loss. The batch loss is the mean of the per-sample losses.

  optimizer @5 :Optimizer;
  # The update rule applied after each global batch.

  batchSize @6 :UInt32;
  # The global batch: samples per optimizer step, summed over all workers. Must be > 0.

  epochs @7 :UInt32;
  # Passes over the training set. Must be > 0.

  workers @8 :UInt32 = 1;
  # Worker processes the cluster gives this job (data parallel). `tfmath run` ignores it. Must be > 0.

  checkpointEvery @9 :UInt32 = 200;
  # Optimizer steps between checkpoints sent by rank 0 to the coordinator; 0 means only at the end.

  device @10 :Device = any;
  # Which workers may train it. All-GPU jobs sum gradients with NCCL, others with Gloo.

  schedule @11 :Schedule;
  # How the learning rate changes over the run: each update uses the optimizer's learningRate times
  # the schedule's factor at that update. Constant by default. The factor depends only on the step,
  # so a resumed run continues the schedule where its checkpoint left it.

  clipGlobalNorm @12 :Float64;
  # When > 0, the largest global norm of the gradient: the batch-mean gradient of all parameters
  # together, g, becomes g · min(1, clipGlobalNorm / ‖g‖₂) before the update. Computed after the
  # gradients are summed over the workers, so every worker clips alike. 0 (the default) never
  # clips; a negative value is refused.

  elasticWaitSeconds @13 :UInt32 = 30;
  # After the job loses a worker and goes back to PENDING, how long it waits for `workers` idle
  # workers before it resumes on fewer (at least minWorkers). The global batch, and so the math,
  # stays the same on any number of workers.

  minWorkers @14 :UInt32 = 1;
  # The fewest workers a requeued job resumes on once elasticWaitSeconds have passed. Must be > 0
  # and at most `workers`. Set it to `workers` to resume only on as many as it asked for.

  maxRestarts @15 :UInt32 = 3;
  # How often the job may be requeued after losing a worker. One more loss FAILS it, with every
  # loss in its reason. 0: the first lost worker fails the job.
}

enum Device {
  # The kind of worker a job asks for.
  any @0;
  # CPU and GPU workers alike.
  cpu @1;
  # CPU workers only.
  gpu @2;
  # GPU workers only.
}

struct DataSource {
  # Where samples come from. Relative paths resolve against the job file's folder. On a cluster,
  # every file must be a regular file inside the daemons' data roots (`--data-root`).
  union {
    linear @0 :Linear;
    # Synthetic regression data: y = x·weights + bias + noise, with x drawn uniformly from [-1, 1].

    idx @1 :Idx;
    # Images and labels in the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.

    csv @2 :Csv;
    # A table of numbers with a header row; one named column is the target.
  }
}

struct Linear {
  # y = x·weights + bias + noise, seeded by the job's seed.

  samples @0 :UInt32;
  # Training samples to generate. Must be > 0.

  weights @1 :List(Float64);
  # The true weights; their count d is the input width. Must not be empty.

  bias @2 :Float64;
  # The true bias.

  noise @3 :Float64;
  # Standard deviation of the Gaussian noise added to each target. Must be >= 0.

  testSamples @4 :UInt32;
  # Held-out samples generated the same way; 0 means no test set.
}

struct Idx {
  # IDX files (MNIST layout): images are N×H×W uint8 (idx3), read as N×H×W×1, or N×H×W×C (idx4,
  # channels last), scaled to [0, 1]. The test images must have the training images' shape.

  trainImages @0 :Text;
  # Path of the training images (idx3, magic 0x00000803, or idx4, 0x00000804), optionally
  # gzip-compressed. Every path here and in Csv: printable UTF-8 without control characters, at
  # most 4096 bytes.

  trainLabels @1 :Text;
  # Path of the training labels (idx1, magic 0x00000801), optionally gzip-compressed.

  testImages @2 :Text;
  # Path of the test images; empty means no test set.

  testLabels @3 :Text;
  # Path of the test labels; required when testImages is set.

  limit @4 :UInt32;
  # Use only the first `limit` training samples; 0 means all. For quick runs and tests.

  testLimit @5 :UInt32;
  # Use only the first `testLimit` test samples; 0 means all.
}

struct Csv {
  # Comma-separated numbers with a header row naming the columns.

  train @0 :Text;
  # Path of the training table.

  test @1 :Text;
  # Path of the test table, with the same columns; empty means no test set.

  target @2 :Text;
  # Name of the target column (printable UTF-8, at most 256 bytes). Every other column is an input
  # feature. With softmaxCrossEntropy
  # the target must hold class numbers 0, 1, 2, ...; with mse it may hold any number.
}

struct Layer {
  # One layer of the model. Keras users will recognise them.
  union {
    dense @0 :Dense;
    # Fully connected: Y = XW + b, then the activation. Needs a 1-D input per sample (use flatten).

    conv2d @1 :Conv2d;
    # 2-D convolution over an H×W×C input (channels last), then the activation.

    maxPool2d @2 :MaxPool2d;
    # Maximum over each poolSize×poolSize window of an H×W×C input.

    flatten @3 :Void;
    # Reshapes each sample to 1-D.

    activation @4 :Activation;
    # An element-wise activation on its own.

    averagePool2d @5 :AveragePool2d;
    # Mean over each poolSize×poolSize window of an H×W×C input.

    globalAveragePool2d @6 :Void;
    # Mean over all H×W positions of each channel: an H×W×C input becomes C values.

    dropout @7 :Dropout;
    # Inverted dropout while training; the identity at evaluation.
  }
}

struct Dropout {
  # While training, each element is zeroed with probability `rate` and the others are divided by
  # 1 − rate, so the expected output equals the input; at evaluation the layer passes its input on
  # unchanged. Which elements are dropped depends only on the job's seed, the epoch, the sample's
  # index in the training set and the element, never on the number of workers.

  rate @0 :Float64;
  # The probability of dropping an element, in [0, 1).
}

enum Activation {
  # An element-wise non-linearity.
  none @0;
  # The identity.
  relu @1;
  # max(0, x).
  sigmoid @2;
  # 1 / (1 + exp(-x)).
  tanh @3;
  # tanh(x).
}

enum Padding {
  # How a convolution treats the border.
  valid @0;
  # No padding: the output shrinks by kernelSize - 1 (for stride 1).
  same @1;
  # Zero padding so that the output is ceil(input / stride); any odd extra goes after (TensorFlow's rule).
}

struct Dense {
  # A fully connected layer.

  units @0 :UInt32;
  # Output width. Must be > 0.

  activation @1 :Activation;
  # Applied to the output; none by default.
}

struct Conv2d {
  # A 2-D convolution, channels last.

  filters @0 :UInt32;
  # Output channels. Must be > 0.

  kernelSize @1 :UInt32;
  # Side of the square kernel. Must be > 0 and, with valid padding, no larger than the input.

  stride @2 :UInt32 = 1;
  # Step between windows in both directions. Must be > 0.

  padding @3 :Padding;
  # valid (default) or same.

  activation @4 :Activation;
  # Applied to the output; none by default.
}

struct MaxPool2d {
  # Max pooling over square windows; windows that would run past the input are dropped (floor).

  poolSize @0 :UInt32;
  # Side of the square window. Must be > 0 and no larger than the input.

  stride @1 :UInt32;
  # Step between windows; 0 means poolSize.
}

struct AveragePool2d {
  # Average pooling over square windows; windows that would run past the input are dropped (floor),
  # so every mean is over poolSize² inputs.

  poolSize @0 :UInt32;
  # Side of the square window. Must be > 0 and no larger than the input.

  stride @1 :UInt32;
  # Step between windows; 0 means poolSize.
}

enum Loss {
  # The per-sample loss.
  mse @0;
  # Mean squared error over the output's elements, for continuous targets.
  softmaxCrossEntropy @1;
  # Cross-entropy of softmax(output) against a class label, for classification.
}

struct Optimizer {
  # The parameter update rule.
  union {
    sgd @0 :Sgd;
    # Stochastic gradient descent with optional (Nesterov) momentum and weight decay, as in PyTorch.

    adam @1 :Adam;
    # Adam (Kingma & Ba, 2015) with bias correction.

    adamW @2 :AdamW;
    # Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's AdamW.
  }
}

struct Sgd {
  # v ← μv + (g + λw); w ← w − η v (or w − η (g + λw + μv) with Nesterov).

  learningRate @0 :Float64;
  # η. Must be finite and > 0.

  momentum @1 :Float64;
  # μ, in [0, 1); 0 means plain SGD.

  nesterov @2 :Bool;
  # Use Nesterov momentum. Needs momentum > 0.

  weightDecay @3 :Float64;
  # λ, the L2 penalty added to the gradient. Must be >= 0.
}

struct Adam {
  # m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − η m̂ / (√v̂ + ε).

  learningRate @0 :Float64 = 0.001;
  # η. Must be finite and > 0.

  beta1 @1 :Float64 = 0.9;
  # β1, in [0, 1).

  beta2 @2 :Float64 = 0.999;
  # β2, in [0, 1).

  epsilon @3 :Float64 = 1e-8;
  # ε. Must be > 0.
}

struct AdamW {
  # Adam's moments, and a decay of the weights themselves that is not part of the gradient:
  # w ← w − η (m̂ / (√v̂ + ε) + λ w).

  learningRate @0 :Float64 = 0.001;
  # η. Must be finite and > 0.

  beta1 @1 :Float64 = 0.9;
  # β1, in [0, 1).

  beta2 @2 :Float64 = 0.999;
  # β2, in [0, 1).

  epsilon @3 :Float64 = 1e-8;
  # ε. Must be > 0.

  weightDecay @4 :Float64 = 0.01;
  # λ, the decay per unit of learning rate, as PyTorch's. Must be finite and >= 0.
}

struct Schedule {
  # The factor that multiplies the optimizer's learning rate at update t = 1, 2, ..., T, where T is
  # the run's updates: epochs × ⌈training samples / batchSize⌉.
  union {
    constant @0 :Void;
    # 1 at every update.

    stepDecay @1 :StepDecay;
    # factor^⌊(t − 1) / every⌋: multiplied by `factor` after every `every` updates.

    cosineDecay @2 :CosineDecay;
    # A linear warm-up to 1 over warmupSteps updates, then half a cosine down to finalFraction at T.
  }
}

struct StepDecay {
  # factor^⌊(t − 1) / every⌋.

  every @0 :UInt32;
  # Updates between decays. Must be > 0.

  factor @1 :Float64 = 0.1;
  # What each decay multiplies the rate by, in (0, 1].
}

struct CosineDecay {
  # t / warmupSteps while t ≤ warmupSteps, then
  # finalFraction + (1 − finalFraction) · (1 + cos(π (t − warmupSteps) / (T − warmupSteps))) / 2.

  warmupSteps @0 :UInt32;
  # Updates of the linear warm-up; 0 starts at 1 at once. No more than the run's T.

  finalFraction @1 :Float64;
  # The factor at the last update, in [0, 1].
}
