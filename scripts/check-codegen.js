// Fails when src/generated/ or client/generated/ is not what `npm run codegen` produces from
// schema/*.graphql and client/operations/*.graphql.
const { execFileSync } = require('node:child_process');
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outputs = ['src/generated', 'client/generated'];

function snapshot() {
  const files = new Map();
  for (const output of outputs) {
    const dir = path.join(root, output);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      files.set(`${output}/${file}`, readFileSync(path.join(dir, file), 'utf8'));
    }
  }
  return files;
}

const before = snapshot();
execFileSync('npx', ['graphql-codegen', '--config', 'codegen.yml', '--silent'], {
  cwd: root,
  stdio: 'inherit',
});
const after = snapshot();

const stale = [...new Set([...before.keys(), ...after.keys()])].filter(
  (file) => before.get(file) !== after.get(file),
);
if (stale.length > 0) {
  console.error(
    `generated code is stale (${stale.join(', ')}): run \`npm run codegen\` and commit the result.`,
  );
  process.exit(1);
}
console.log(`codegen: ${outputs.join(' and ')} are up to date`);
