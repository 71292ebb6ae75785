// printable_test.cc: the check and the escape for text shown on terminals (base/printable.h), on
// the attacks a job name was seen to carry: an OSC title, a screen clear, a newline with a forged
// row, stray bytes and overlong UTF-8.
#include "base/printable.h"

#include <gtest/gtest.h>

namespace tfmath {
namespace {

TEST(Printable, AcceptsPrintableUtf8AndRefusesControlsAndBadBytes) {
  EXPECT_TRUE(isPrintableUtf8(""));
  EXPECT_TRUE(isPrintableUtf8("fashion-mlp lr=0.1"));
  EXPECT_TRUE(isPrintableUtf8("réseau ∑ 学習 🙂"));
  EXPECT_FALSE(isPrintableUtf8("a\x1b]0;pwned\x07"));
  EXPECT_FALSE(isPrintableUtf8("a\nb"));
  EXPECT_FALSE(isPrintableUtf8("tab\there"));
  EXPECT_FALSE(isPrintableUtf8("del\x7f"));
  EXPECT_FALSE(isPrintableUtf8("c1 \xc2\x9b"));  // U+009B, the 8-bit CSI
  EXPECT_FALSE(isPrintableUtf8("stray \xff"));
  EXPECT_FALSE(isPrintableUtf8("overlong \xc0\xaf"));  // '/' in two bytes
  EXPECT_FALSE(isPrintableUtf8("surrogate \xed\xa0\x80"));
  EXPECT_FALSE(isPrintableUtf8("cut \xe2\x88"));
  EXPECT_FALSE(isPrintableUtf8(std::string("nul\0", 4)));
}

TEST(Printable, EscapesWhatATerminalWouldObey) {
  EXPECT_EQ(escapeForTerminal("plain ∑"), "plain ∑");
  EXPECT_EQ(escapeForTerminal("\x1b]0;pwned\x07\x1b[2J"), "\\x1b]0;pwned\\x07\\x1b[2J");
  EXPECT_EQ(escapeForTerminal("x\n2  root  forged  COMPLETED"), "x\\x0a2  root  forged  COMPLETED");
  EXPECT_EQ(escapeForTerminal("a\\x1b"), "a\\\\x1b");  // an escape cannot be forged either
  EXPECT_EQ(escapeForTerminal("\xc2\x9b"
                              "31m"),
            "\\xc2\\x9b31m");
  EXPECT_EQ(escapeForTerminal("bad \xff\xc0\xaf"), "bad \\xff\\xc0\\xaf");
  EXPECT_EQ(escapeForTerminal("line 1\nline\x1b 2\n", true), "line 1\nline\\x1b 2\n");
  // Whatever goes in, nothing unprintable comes out.
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_TRUE(isPrintableUtf8(escapeForTerminal(all)));
}

// A log read in pieces: "∑" (e2 88 91) split between two pieces is shown whole, and a control
// character is escaped wherever the split falls.
TEST(Printable, ALogInPiecesIsEscapedALineAtATime) {
  LineEscaper e;
  std::string out = e.add("epoch 1 \xe2\x88");
  out += e.add("\x91 done\nname \x1b");
  out += e.add("[2J\npartial");
  out += e.finish();
  EXPECT_EQ(out, "epoch 1 ∑ done\nname \\x1b[2J\npartial");
  // Escaped one piece at a time, the split character would have become \xe2\x88 and \x91.
  EXPECT_EQ(escapeForTerminal("epoch 1 \xe2\x88", true), "epoch 1 \\xe2\\x88");
}

}  // namespace
}  // namespace tfmath
