// message_bytes.cc: aligned, bounded reading of a message from bytes.
#include "base/message_bytes.h"

#include <cstring>
#include <stdexcept>

namespace tfmath {

MessageBytes::MessageBytes(const void* data, size_t size) {
  if (size == 0 || size % sizeof(capnp::word) != 0)
    throw std::invalid_argument("not a Cap'n Proto message (" + std::to_string(size) + " bytes)");
  words_ = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  std::memcpy(words_.begin(), data, size);
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words_.size() * 8 + 1024;
  reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_, options);
}

}  // namespace tfmath
