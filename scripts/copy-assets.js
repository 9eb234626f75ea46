// tsc emits only JavaScript: copy the data files that compiled modules read beside themselves
// (src/**/*.txt, such as the common-password list) into dist/.
const { cpSync, readdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const assets = readdirSync(path.join(root, 'src'), { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.txt'));
for (const file of assets) {
  cpSync(path.join(root, 'src', file), path.join(root, 'dist', file));
}
console.log(`copied ${assets.length} asset file(s) to dist/`);
