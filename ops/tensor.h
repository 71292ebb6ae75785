// tensor.h: the float32 tensor every op reads and writes: a shape plus contiguous row-major data.
// Not thread-safe; each training thread owns its tensors.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace tfmath {

using Shape = std::vector<int64_t>;

// Allocates on 64-byte boundaries. Vectorised kernels (OpenBLAS's, Eigen's) may take a different
// path, and so round differently, depending on where a buffer starts; aligning every float buffer
// the same way keeps results identical from run to run, which exact resume depends on.
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  bool operator==(const AlignedAllocator&) const { return true; }
};
using FloatBuffer = std::vector<float, AlignedAllocator<float>>;

// Elements in a tensor of this shape (1 for a scalar).
int64_t numel(const Shape& shape);
// "[2, 3, 4]", for messages.
std::string shapeString(const Shape& shape);

using MatrixMap = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using ConstMatrixMap =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape) { resize(std::move(shape)); }

  // Sets the shape; keeps the allocation when it is large enough. Contents are unspecified.
  void resize(Shape shape) {
    shape_ = std::move(shape);
    data_.resize(static_cast<size_t>(numel(shape_)));
  }
  void setZero() { std::fill(data_.begin(), data_.end(), 0.0f); }

  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }

  // The tensor as a matrix of dim(0) rows, for batched ops.
  MatrixMap rows() { return MatrixMap(data(), shape_.at(0), size() / shape_.at(0)); }
  ConstMatrixMap rows() const {
    return ConstMatrixMap(data(), shape_.at(0), size() / shape_.at(0));
  }
  VectorMap flat() { return VectorMap(data(), size()); }
  ConstVectorMap flat() const { return ConstVectorMap(data(), size()); }

 private:
  Shape shape_;
  FloatBuffer data_;
};

}  // namespace tfmath
