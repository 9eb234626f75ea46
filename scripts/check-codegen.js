// Fails when src/generated/ is not what `npm run codegen` produces from schema/*.graphql.
const { execFileSync } = require('node:child_process');
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const path = require('node:path');

const dir = path.resolve(__dirname, '../src/generated');

function snapshot() {
  if (!existsSync(dir)) return new Map();
  return new Map(
    readdirSync(dir).map((file) => [file, readFileSync(path.join(dir, file), 'utf8')]),
  );
}

const before = snapshot();
execFileSync('npx', ['graphql-codegen', '--config', 'codegen.yml', '--silent'], {
  cwd: path.resolve(__dirname, '..'),
  stdio: 'inherit',
});
const after = snapshot();

const stale = [...new Set([...before.keys(), ...after.keys()])].filter(
  (file) => before.get(file) !== after.get(file),
);
if (stale.length > 0) {
  console.error(
    `src/generated is stale (${stale.join(', ')}): run \`npm run codegen\` and commit the result.`,
  );
  process.exit(1);
}
console.log('codegen: src/generated is up to date');
