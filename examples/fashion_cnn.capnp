# examples/fashion_cnn.capnp
using T = import "/tfmath/job.capnp";
const job :T.Job = (
  name = "fashion-cnn",
  data = (idx = (
    trainImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
    trainLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
    testImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    testLabels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")),
  model = [(conv2d = (filters = 16, kernelSize = 3, padding = same, activation = relu)),
           (maxPool2d = (poolSize = 2)),
           (conv2d = (filters = 32, kernelSize = 3, padding = same, activation = relu)),
           (maxPool2d = (poolSize = 2)),
           (flatten = void),
           (dense = (units = 10))],
  loss = softmaxCrossEntropy,
  optimizer = (adam = (learningRate = 0.001)),
  batchSize = 64,
  epochs = 5,
  workers = 2,
);
