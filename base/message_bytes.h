// message_bytes.h: a Cap'n Proto message read from bytes (a file or a ZeroMQ frame). The bytes are
// copied to word alignment, and reading may visit at most 8× the message's own words, so no message
// can make its reader loop over pointers that share their targets. Not thread-safe.
#pragma once

#include <capnp/serialize.h>

#include <memory>
#include <string>

namespace tfmath {

class MessageBytes {
 public:
  // Throws std::invalid_argument for bytes that are not a whole number of words, and
  // kj::Exception for a malformed message (when its root is first read).
  MessageBytes(const void* data, size_t size);
  template <typename T>
  typename T::Reader root() const {
    return reader_->getRoot<T>();
  }
  size_t words() const { return words_.size(); }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

}  // namespace tfmath
