// dataset.cc: gathering batches, and the dispatch over data sources.
#include "jobs/dataset.h"

#include <algorithm>
#include <cmath>

namespace tfmath {

void Dataset::gather(const uint32_t* indices, int64_t n, Tensor& x, Tensor& t) const {
  Shape xs = inputs.shape(), ts = targets.shape();
  xs[0] = ts[0] = n;
  x.resize(xs);
  t.resize(ts);
  const int64_t xw = numel(xs) / std::max<int64_t>(n, 1), tw = numel(ts) / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(inputs.data() + indices[i] * xw, xw, x.data() + i * xw);
    std::copy_n(targets.data() + indices[i] * tw, tw, t.data() + i * tw);
  }
}

Data loadData(proto::DataSource::Reader source, uint64_t seed, const DataAccess& access) {
  Data data;
  switch (source.which()) {
    case proto::DataSource::LINEAR:
      data = loadLinear(source.getLinear(), seed, "data.linear");
      break;
    case proto::DataSource::IDX:
      data = loadIdx(source.getIdx(), "data.idx", access);
      break;
    case proto::DataSource::CSV:
      data = loadCsv(source.getCsv(), "data.csv", access);
      break;
  }
  // A target can be a class number when every one is a whole number >= 0.
  auto integral = [](const Dataset& d) {
    const float* t = d.targets.data();
    return d.targets.dim(1) == 1 && std::all_of(t, t + d.targets.size(), [](float v) {
             return v >= 0 && std::floor(v) == v;
           });
  };
  data.integralTargets = integral(data.train) && (!data.test || integral(*data.test));
  if (data.integralTargets) {
    float top = 0;
    for (const Dataset* d : {&data.train, data.test ? &*data.test : nullptr})
      if (d)
        top = std::max(top,
                       *std::max_element(d->targets.data(), d->targets.data() + d->targets.size()));
    data.classes = static_cast<int64_t>(top) + 1;
  }
  return data;
}

}  // namespace tfmath
