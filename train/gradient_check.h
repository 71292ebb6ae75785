// gradient_check.h: a finite-difference check of a job's gradients at given parameters, on one
// batch of the job's own data. For each op with parameters it compares the backpropagated gradient
// of the batch's mean loss with central differences of that loss, on the elements of each
// parameter with the largest gradients, and keeps the largest relative error. A report prints it,
// so that the rules it shows are seen to be the ones that trained the model.
#pragma once

#include <string>
#include <vector>

#include "jobs/dataset.h"
#include "proto/params.capnp.h"

namespace tfmath {

struct OpGradientCheck {
  std::string field;            // the job layer: "model[1].dense"
  std::string op;               // "dense"
  int checked = 0;              // elements compared
  double maxRelativeError = 0;  // |numeric − backprop| / max(|numeric|, |backprop|, 1e-6)
};

// `state` must hold the job's parameters (a parameter file of this job); throws JobError if not.
// Checks the `perParameter` elements of each parameter tensor whose gradients are largest, on up
// to the first 8 samples, with a step of h = 10⁻³·max(1, |w|) each way. Relu and max pooling hold
// the branches the unperturbed forward took (Model::holdBranches), so a step that would cross a
// kink still measures the slope of the piece that backpropagation differentiated. The forward is a
// training one: dropout drops the elements it drops for those samples in epoch 0, at every step.
std::vector<OpGradientCheck> checkGradients(proto::Job::Reader job, const Data& data,
                                            proto::ParameterState::Reader state,
                                            int perParameter = 8);

}  // namespace tfmath
