// Installs what a fresh machine lacks before the tests: npm packages and a
// Chromium for the browser tests. Plain JavaScript: it runs before node_modules exists.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd) => execSync(cmd, { stdio: 'inherit' });

if (!existsSync('node_modules/.package-lock.json')) {
  console.log('installing npm packages (npm ci)');
  run('npm ci --no-audit --no-fund');
}

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (process.argv.includes('--browser') && !existsSync(chromium)) {
  if (process.platform === 'linux' && existsSync('/usr/bin/apt-get')) {
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    console.log('installing Chromium for the browser tests (apt-get install chromium)');
    run(`${sudo}apt-get update && ${sudo}apt-get install -y chromium`);
  } else {
    console.error(`No Chromium at ${chromium}: install one and point CHROMIUM_PATH at it.`);
    process.exit(1);
  }
}
