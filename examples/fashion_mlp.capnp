# examples/fashion_mlp.capnp
using T = import "/tfmath/job.capnp";
const job :T.Job = (
  name = "fashion-mlp",
  data = (idx = (
    trainImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
    trainLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
    testImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    testLabels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")),
  model = [(flatten = void),
           (dense = (units = 256, activation = relu)),
           (dense = (units = 128, activation = relu)),
           (dense = (units = 10))],
  loss = softmaxCrossEntropy,
  optimizer = (sgd = (learningRate = 0.1, momentum = 0.9)),
  batchSize = 128,
  epochs = 10,
  workers = 2,
);
