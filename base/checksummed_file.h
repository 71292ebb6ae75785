// checksummed_file.h: files that tell when they were damaged. The bytes are followed by a 16-byte
// trailer: the magic "TFMCRC32", then the CRC-32 (zlib's) of the bytes and their length modulo
// 2^32, both little-endian; the whole is written durably (durable_file.h). A file cut short, torn,
// or with a flipped bit fails its check when read, with the path named and nothing of its content
// quoted. Thread-safe (no state).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tfmath {

// A file whose trailer is missing or does not match its bytes.
class ChecksumError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `bytes` and their trailer to `path` durably; throws std::runtime_error as
// writeFileDurably does.
void writeChecksummedFile(const std::string& path, std::string_view bytes);
// The bytes of a file that writeChecksummedFile wrote, without the trailer. Throws ChecksumError
// naming `path` when the trailer is missing (the file was cut short, or not written so) or does
// not match; std::runtime_error when it cannot be read.
std::string readChecksummedFile(const std::string& path);

}  // namespace tfmath
