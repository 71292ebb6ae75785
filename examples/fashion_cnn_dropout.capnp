# examples/fashion_cnn_dropout.capnp: the CNN of fashion_cnn.capnp with the regularisation Keras
# users reach for: dropout after each block and before the classifier, AdamW's decoupled weight
# decay, a cosine learning-rate schedule after a short warm-up, and gradients clipped by their
# global norm. Dropout draws from the seed, the epoch and each sample, so any number of workers
# trains the same model.
using T = import "/tfmath/job.capnp";
const job :T.Job = (
  name = "fashion-cnn-dropout",
  data = (idx = (
    trainImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
    trainLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
    testImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    testLabels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")),
  model = [(conv2d = (filters = 16, kernelSize = 3, padding = same, activation = relu)),
           (maxPool2d = (poolSize = 2)),
           (dropout = (rate = 0.2)),
           (conv2d = (filters = 32, kernelSize = 3, padding = same, activation = relu)),
           (maxPool2d = (poolSize = 2)),
           (dropout = (rate = 0.2)),
           (flatten = void),
           (dense = (units = 128, activation = relu)),
           (dropout = (rate = 0.4)),
           (dense = (units = 10))],
  loss = softmaxCrossEntropy,
  optimizer = (adamW = (learningRate = 0.002, weightDecay = 0.01)),
  schedule = (cosineDecay = (warmupSteps = 500, finalFraction = 0.05)),
  clipGlobalNorm = 5.0,
  batchSize = 64,
  epochs = 8,
  workers = 2,
);
