#!/usr/bin/env node
// Adds lockfile records for platform-specific optional packages that this workplace's registry mirror
// does not serve (it answers 404 for other platforms' binaries, e.g. @biomejs/cli-darwin-arm64), so npm
// leaves them out of package-lock.json and `npm ci` then refuses the lockfile as out of sync. Each record
// carries the version the parent pins plus os/cpu/libc parsed from the package name, so npm ci skips it
// on this platform without fetching. Run after `npm install`: node scripts/lockfile-platforms.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
const OS = ['android', 'darwin', 'freebsd', 'linux', 'win32', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony', 'cygwin'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el', 'wasm32'];

function platformOf(name) {
  const base = name.split('/').pop();
  const parts = base.split('-');
  const os = parts.find((p) => OS.includes(p) || p === 'win32');
  const cpu = parts.find((p) => CPU.includes(p)) ?? (base.includes('arm-') || base.endsWith('-arm') ? 'arm' : undefined);
  const libc = base.includes('musl') ? 'musl' : os === 'linux' ? 'glibc' : undefined;
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}), ...(libc && os === 'linux' ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const hoisted = `node_modules/${dep}`;
    const nested = `${path ? `${path}/` : ''}node_modules/${dep}`;
    if (packages[hoisted] || packages[nested]) continue;
    const version = String(range).replace(/^[\^~=]/, '');
    if (!/^\d+\.\d+\.\d+/.test(version)) continue;
    packages[hoisted] = { version, ...(meta.dev ? { dev: true } : {}), optional: true, ...platformOf(dep) };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform records`);
try {
  execFileSync('npm', ['ci', '--dry-run'], { stdio: 'pipe' });
  console.log('npm ci --dry-run: lockfile in sync');
} catch (e) {
  console.log(String(e.stderr).split('\n').filter((l) => !l.includes('nodedir')).slice(0, 8).join('\n'));
  process.exitCode = 1;
}
