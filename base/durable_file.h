// durable_file.h: whole-file writes that survive a crash: temp file, fsync, rename, fsync of the
// folder. A reader sees the old file or the new one, never a torn one. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace tfmath {

// Replaces `path` with `bytes` durably. Throws std::system_error (its code the errno, its what()
// naming the path) on failure; the old file, if any, is left as it was.
void writeFileDurably(const std::string& path, std::string_view bytes);

// Reads a whole file. Throws std::system_error naming the path on failure.
std::string readWholeFile(const std::string& path);

}  // namespace tfmath
