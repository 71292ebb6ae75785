# examples/linreg.capnp: y = 3x + 2 + noise, fitted with mean squared error and SGD.
using T = import "/tfmath/job.capnp";
const job :T.Job = (
  name = "linreg",
  seed = 42,
  data = (linear = (samples = 100, weights = [3.0], bias = 2.0, noise = 0.5)),
  model = [(dense = (units = 1))],
  loss = mse,
  optimizer = (sgd = (learningRate = 0.1)),
  batchSize = 10,
  epochs = 10,
  workers = 2,
);
