import { expect, test as base } from '@playwright/test';

/**
 * Every browser test runs with two guards: no request may leave the app's own
 * origin (from the page or any worker), and nothing may break the page's
 * Content-Security-Policy. Either fails the test that caused it. A test that
 * breaks the policy on purpose, to see it hold, says so with the annotation
 * `{ type: CSP_PROBE }`.
 */
export const CSP_PROBE = 'csp-probe';

export const test = base.extend<{ guards: void }>({
  guards: [
    async ({ context, baseURL }, use) => {
      const origin = new URL(baseURL!).origin;
      const offOrigin: string[] = [];
      const violations: string[] = [];
      context.on('request', (r) => {
        const url = r.url();
        if (!url.startsWith(origin + '/') && !/^(data|blob):/.test(url)) offOrigin.push(url);
      });
      const watch = (text: string) => {
        if (/Content Security Policy|Refused to/.test(text)) violations.push(text);
      };
      context.on('page', (page) => {
        page.on('console', (m) => watch(m.text()));
        page.on('worker', (w) => w.on('console', (m) => watch(m.text())));
      });
      await use();
      expect(offOrigin, 'requests that left the origin').toEqual([]);
      if (!test.info().annotations.some((a) => a.type === CSP_PROBE)) expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
