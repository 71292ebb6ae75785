// data_idx.cc: IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed, read through zlib.
// Format: 2 zero bytes, a type byte (0x08 = uint8), a rank byte, rank big-endian uint32 sizes,
// then the elements. Images are idx3 (magic 0x00000803: N×H×W, one channel) or idx4 (0x00000804:
// N×H×W×C, channels last), labels idx1 (magic 0x00000801).
#include <zlib.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "jobs/dataset.h"
#include "jobs/job_error.h"

namespace tfmath {

namespace {

struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;
};

// The largest IDX array read: 4 GiB of elements.
constexpr uint64_t kMaxIdxElements = uint64_t{1} << 32;

IdxArray readIdx(const std::string& path, uint32_t expectedMagic, const std::string& field,
                 const DataAccess& access) {
  const std::string where = field + ": " + path;
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzdopen(access.open(path, field).release(), "rb"),
                                               gzclose);
  require(f != nullptr, where, "cannot read (out of memory)");
  gzbuffer(f.get(), 1 << 20);
  uint8_t header[4];
  require(gzread(f.get(), header, 4) == 4, where, "truncated: no IDX header");
  const uint32_t magic = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                         (uint32_t{header[2]} << 8) | header[3];
  char text[96];
  const bool images = expectedMagic == 0x00000803;
  std::snprintf(text, sizeof text, " 0x%08x (expected 0x%08x%s)", magic, expectedMagic,
                images ? " or 0x00000804" : "");
  require(magic == expectedMagic || (images && magic == 0x00000804), where,
          std::string(images ? "not an IDX image file (idx3 or idx4 of uint8)"
                             : "not an IDX label file (idx1 of uint8)") +
              ": bad magic number" + (access.quotesContent() ? text : ""));
  IdxArray a;
  uint64_t total = 1;
  for (int i = 0; i < header[3]; ++i) {
    uint8_t b[4];
    require(gzread(f.get(), b, 4) == 4, where, "truncated inside the IDX header");
    const uint32_t dim =
        (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    a.dims.push_back(dim);
    require(dim > 0, where, "the IDX header declares no elements");
    // Checked before the product is taken, so no header can wrap it: a wrapped size would make
    // the reads below run past the buffer.
    require(total <= kMaxIdxElements / dim, where,
            "the IDX header declares more than " + std::to_string(kMaxIdxElements) + " elements");
    total *= dim;
  }
  a.bytes.resize(total);
  size_t got = 0;
  while (got < total) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(total - got, 1u << 30));
    const int n = gzread(f.get(), a.bytes.data() + got, chunk);
    int err = Z_OK;
    const char* msg = gzerror(f.get(), &err);
    require(n >= 0 && err == Z_OK, where, std::string("unreadable: ") + msg);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  require(got == total, where,
          "truncated: holds fewer bytes than its header declares" +
              (access.quotesContent()
                   ? " (" + std::to_string(got) + " of " + std::to_string(total) + ")"
                   : std::string()));
  return a;
}

Dataset loadPair(const std::string& imagesPath, const std::string& labelsPath, uint32_t limit,
                 const std::string& imagesField, const std::string& labelsField,
                 const DataAccess& access) {
  IdxArray images = readIdx(imagesPath, 0x00000803, imagesField, access);
  IdxArray labels = readIdx(labelsPath, 0x00000801, labelsField, access);
  require(images.dims[0] == labels.dims[0], labelsField,
          access.quotesContent()
              ? labelsPath + " holds " + std::to_string(labels.dims[0]) + " labels but " +
                    imagesPath + " holds " + std::to_string(images.dims[0]) + " images"
              : labelsPath + " holds a different number of labels than " + imagesPath +
                    " holds images");
  const int64_t n = limit ? std::min<int64_t>(limit, images.dims[0]) : images.dims[0];
  const int64_t h = images.dims[1], w = images.dims[2];
  const int64_t c = images.dims.size() == 4 ? images.dims[3] : 1;
  Dataset d;
  d.inputs.resize({n, h, w, c});
  d.targets.resize({n, 1});
  for (int64_t i = 0; i < n * h * w * c; ++i) d.inputs[i] = images.bytes[i] / 255.0f;
  for (int64_t i = 0; i < n; ++i) d.targets[i] = labels.bytes[i];
  return d;
}

}  // namespace

Data loadIdx(proto::Idx::Reader idx, const std::string& field, const DataAccess& access) {
  require(idx.getTrainImages().size() > 0, field + ".trainImages", "is required");
  require(idx.getTrainLabels().size() > 0, field + ".trainLabels", "is required");
  require(idx.getTestImages().size() == 0 || idx.getTestLabels().size() > 0, field + ".testLabels",
          "is required when testImages is set");
  Data data;
  data.labels = true;
  data.train = loadPair(idx.getTrainImages(), idx.getTrainLabels(), idx.getLimit(),
                        field + ".trainImages", field + ".trainLabels", access);
  if (idx.getTestImages().size() > 0)
    data.test = loadPair(idx.getTestImages(), idx.getTestLabels(), idx.getTestLimit(),
                         field + ".testImages", field + ".testLabels", access);
  if (data.test)
    require(data.test->sampleShape() == data.train.sampleShape(), field + ".testImages",
            "its images are " + shapeString(data.test->sampleShape()) +
                " but the training images are " + shapeString(data.train.sampleShape()));
  return data;
}

}  // namespace tfmath
