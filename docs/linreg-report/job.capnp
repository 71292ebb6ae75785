# The job of linreg.params, as it ran.
using T = import "/tfmath/job.capnp";
const job :T.Job = (name = "linreg", seed = 42, data = (linear = (samples = 100, weights = [3], bias = 2, noise = 0.5, testSamples = 0)), model = [(dense = (units = 1, activation = none))], loss = mse, optimizer = (sgd = (learningRate = 0.1, momentum = 0, nesterov = false, weightDecay = 0)), batchSize = 10, epochs = 10, workers = 2, checkpointEvery = 200, device = any, clipGlobalNorm = 0);
