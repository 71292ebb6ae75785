// package_test.cc: the Debian package that scripts/package.sh builds (build-deb/): what it holds,
// the dependencies dpkg-shlibdeps found, that lintian finds no error, and that its binary runs
// with Debian's libraries alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/test_util.h"

namespace tfmath {
namespace {

using testing::builtPackage;
using testing::shell;
using testing::TempDir;

TEST(Package, TheDebianPackageHoldsItAllAndIsLintianClean) {
  const std::string deb = builtPackage();
  if (deb.empty()) GTEST_SKIP() << "no package: run scripts/package.sh (scripts/test.sh does)";
  // Its files: the binary and every tfmath-NAME link, the units, the example configs (conffiles),
  // the docs.
  auto r = shell("dpkg-deb -c " + deb);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  for (const std::string path :
       {"./usr/bin/tfmath", "./usr/bin/tfmath-submit -> tfmath", "./usr/bin/tfmath-wait -> tfmath",
        "./usr/bin/tfmath-top -> tfmath", "./lib/systemd/system/tfmath-coordinator.service",
        "./lib/systemd/system/tfmath-worker@.service", "./etc/tfmath/coordinator.conf",
        "./etc/tfmath/worker.conf", "./usr/share/doc/tfmath/copyright",
        "./usr/share/doc/tfmath/changelog.gz", "./usr/share/doc/tfmath/docs/batch.md",
        "./usr/share/doc/tfmath/examples/batch/lr_sweep.sh"})
    EXPECT_NE(r.output.find(path), std::string::npos) << path << "\n" << r.output;
  r = shell("dpkg-deb -f " + deb + " Depends");
  for (const std::string dependency :
       {"adduser", "libzmq5", "libcapnp-", "libgloo0", "libssh-4", "libncursesw6", "libopenblas0"})
    EXPECT_NE(r.output.find(dependency), std::string::npos) << dependency << ": " << r.output;
  EXPECT_EQ(r.output.find("cuda"), std::string::npos) << r.output;
  TempDir dir;
  r = shell("dpkg-deb -e " + deb + " " + dir.path() + "/control && cat " + dir.path() +
            "/control/conffiles");
  EXPECT_EQ(r.output, "/etc/tfmath/coordinator.conf\n/etc/tfmath/worker.conf\n");

  // lintian: no error (warnings, such as the missing manual pages, are listed and allowed).
  r = shell("lintian --fail-on error --tag-display-limit 0 " + deb);
  EXPECT_EQ(r.exitCode, 0) << r.output;

  // The packaged binary runs with the libraries Debian's packages put in place.
  r = shell("dpkg-deb -x " + deb + " " + dir.path() + "/root && " + dir.path() +
            "/root/usr/bin/tfmath --version");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("tfmath 0.1.0"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tfmath
