// registry.h: the one list of every op, loss and optimizer with its math, and the dispatch table of
// the layer ops: the validator, the CPU model and the GPU backend ask it which ops a job's layer
// builds and what each op's rules are (layer_op.h). `tfmath ops --markdown` prints docs/ops.md
// from it; a test fails when the committed file is stale.
#pragma once

#include <string>
#include <vector>

#include "ops/layer_op.h"
#include "ops/op_math.h"
#include "ops/problems.h"
#include "proto/job.capnp.h"

namespace tfmath {

// Every layer op, in the order the docs list them.
const std::vector<const LayerOp*>& layerOps();

// The ops a job's layer builds, in order: its own, then the activation its `activation` field
// names (a dense or conv2d layer). Empty for `activation = none`, the identity. The layer must
// have passed checkLayerFields.
std::vector<const LayerOp*> opsOf(proto::Layer::Reader layer);

// "model[2].dense": the field of the job's layer `index`, for messages.
std::string layerField(uint32_t index, proto::Layer::Reader layer);

// Checks a job's layer `index` without its input: a kind and activations that this tfmath knows,
// and each op's own settings (LayerOp::checkFields).
void checkLayerFields(proto::Layer::Reader layer, uint32_t index, Problems& problems);

// Every op, loss and optimizer with its math, in the order the docs list them.
const std::vector<const OpMath*>& opRegistry();
// The entry named `name`, or nullptr.
const OpMath* findOp(const std::string& name);
// docs/ops.md: the whole registry as Markdown with LaTeX (renders on GitHub and in Jupyter).
std::string opsMarkdown();

}  // namespace tfmath
