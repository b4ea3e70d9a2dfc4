import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const scripts: Record<string, string> = JSON.parse(readFileSync('package.json', 'utf8')).scripts;
const readme = readFileSync('README.md', 'utf8');

/**
 * npm runs `preX` and `postX` by themselves around `npm run X` (and around its own
 * commands: `npm test`, `npm start`, `npm install`...). A hook is allowed only when
 * it is meant, and listed here with the reason.
 */
const ALLOWED_HOOKS: Record<string, string> = {
  pretest: 'npm test first installs what a fresh machine lacks (npm packages, Chromium)',
};
/** npm commands that run pre/post hooks of their own name even with no script of that name. */
const NPM_LIFECYCLE = ['install', 'uninstall', 'publish', 'pack', 'version', 'prepare', 'shrinkwrap', 'test', 'start', 'stop', 'restart'];
/** Scripts npm runs by itself on install (npm ci runs them too). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'];

/** Scripts npm would run by itself as a hook or on install, less the allowed ones. */
function unexpectedHooks(all: Record<string, string>): string[] {
  return Object.keys(all).filter((name) => {
    if (name in ALLOWED_HOOKS) return false;
    if (INSTALL_SCRIPTS.includes(name)) return true;
    const m = /^(pre|post)(.+)$/.exec(name);
    return m !== null && (m[2] in all || NPM_LIFECYCLE.includes(m[2]));
  });
}

describe('package.json scripts', () => {
  it('has no accidental lifecycle hooks: no preX or postX beside a script X', () => {
    expect(unexpectedHooks(scripts)).toEqual([]);
  });

  it('the check catches hooks like the one that once retrained a model before every npm run train', () => {
    expect(unexpectedHooks({ pretrain: 'a', train: 'b', preview: 'c', postbench: 'd', bench: 'e', prestart: 'f', pretest: 'g', test: 'h' })).toEqual(['pretrain', 'postbench', 'prestart']);
    expect(unexpectedHooks({ postinstall: 'a', prepare: 'b' })).toEqual(['postinstall', 'prepare']);
  });

  it('every npm command in README.md names a script, and its hooks are the allowed ones', () => {
    // Commands: indented code lines and `inline code`.
    const named = [...readme.matchAll(/(?:^ {4}|`)npm (?:run )?([\w:-]+)/gm)].map((m) => m[1]).filter((n) => !['ci', 'install', 'run'].includes(n));
    expect(named.length).toBeGreaterThan(3);
    for (const name of new Set(named)) {
      expect(scripts, `README.md names npm ${name}`).toHaveProperty(name);
      for (const hook of [`pre${name}`, `post${name}`]) if (hook in scripts) expect(ALLOWED_HOOKS).toHaveProperty(hook);
    }
    for (const hook of Object.keys(ALLOWED_HOOKS)) expect(readme, `README.md explains the ${hook} hook`).toContain(hook);
  });
});

function hashModels(): Record<string, string> {
  const dir = 'public/models';
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')]),
  );
}

describe('npm run train', () => {
  it('runs only the trainer: no other script, and the shipped models are untouched', () => {
    const before = hashModels();
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const out = execFileSync('npm', ['run', 'train', '--', '--task', 'names', '--reward', 'length', '--iterations', '2', '--quiet'], {
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    // npm announces every script it runs as "> package@version name".
    const ran = [...out.matchAll(/^> \S+@\S+ (\S+)$/gm)].map((m) => m[1]);
    expect(ran).toEqual(['train']);
    expect(out).toMatch(/^\s+2\s+-?\d/m); // the second iteration's metrics line
    expect(hashModels()).toEqual(before);
  });
});
