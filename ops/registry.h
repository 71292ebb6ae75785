// registry.h: the one list of every op, loss and optimizer with its math. `tfmath ops --markdown`
// prints docs/ops.md from it; a test fails when the committed file is stale.
#pragma once

#include <string>
#include <vector>

#include "ops/op_math.h"

namespace tfmath {

// Every op, in the order the docs list them.
const std::vector<const OpMath*>& opRegistry();
// The entry named `name`, or nullptr.
const OpMath* findOp(const std::string& name);
// docs/ops.md: the whole registry as Markdown with LaTeX (renders on GitHub and in Jupyter).
std::string opsMarkdown();

}  // namespace tfmath
