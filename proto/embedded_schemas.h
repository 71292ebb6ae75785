// embedded_schemas.h: the text of the schemas a job file may import, built into the binary.
#pragma once

namespace tfmath::proto {

// The text of proto/job.capnp, served to job files as "/tfmath/job.capnp".
extern const char* const kJobSchemaText;
// The text of Cap'n Proto's c++.capnp, which job.capnp imports for its namespace annotation.
extern const char* const kCppSchemaText;

}  // namespace tfmath::proto
