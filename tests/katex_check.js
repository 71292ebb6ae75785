// katex_check.js: renders every LaTeX formula of a JSON array on stdin with KaTeX (Debian's katex),
// as GitHub's math would, and prints each one it refuses (an unknown macro, a syntax error) with
// KaTeX's reason; exits 1 when it refused any. Run: NODE_PATH=/usr/share/nodejs node katex_check.js
const katex = require('katex');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  let refused = 0;
  for (const formula of JSON.parse(input)) {
    try {
      katex.renderToString(formula, {displayMode: true, throwOnError: true, strict: 'error'});
    } catch (e) {
      refused += 1;
      console.log(`refused: ${formula}\n  ${e.message}`);
    }
  }
  console.log(`${refused} of ${JSON.parse(input).length} formulas refused`);
  process.exit(refused ? 1 : 0);
});
