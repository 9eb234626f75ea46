// Regenerates src/passwords/common-passwords.txt from the ranked password list that
// @zxcvbn-ts/language-common ships (src/passwords.json, most common first; MIT licence).
// Usage: npm pack @zxcvbn-ts/language-common, unpack it, then
//   node scripts/common-passwords.js path/to/package/src/passwords.json [count]
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const [source, countArg] = process.argv.slice(2);
if (!source) {
  console.error('usage: node scripts/common-passwords.js <passwords.json> [count]');
  process.exit(2);
}
const count = Number(countArg ?? 10000);
// Shorter passwords are refused by the length rule anyway; PASSWORD_MIN_LENGTH is at least 8.
const MIN_LENGTH = 8;

const ranked = JSON.parse(readFileSync(source, 'utf8'));
const picked = new Set();
for (const entry of ranked) {
  if (picked.size >= count) break;
  const password = String(entry).toLowerCase();
  if ([...password].length >= MIN_LENGTH && !/\s/.test(password)) picked.add(password);
}

const header = [
  `# The ${picked.size} most common passwords of at least ${MIN_LENGTH} characters, lower-cased, most`,
  '# common first. Source: the ranked password list of @zxcvbn-ts/language-common 4.1.3',
  '# (MIT licence; Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc., (c) 2021 @zxcvbn-ts),',
  "# itself drawn from Mark Burnett's ten-million-password corpus (Xato).",
  '# Regenerate with scripts/common-passwords.js.',
];
const target = path.resolve(__dirname, '../src/passwords/common-passwords.txt');
writeFileSync(target, `${[...header, ...picked].join('\n')}\n`);
console.log(`wrote ${picked.size} passwords to ${path.relative(process.cwd(), target)}`);
