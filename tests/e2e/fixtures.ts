import { expect, test as base } from '@playwright/test';

/**
 * Every browser test runs with three guards: no request may leave the app's own
 * origin (from the page or any worker), nothing may break the page's
 * Content-Security-Policy, and no error may go uncaught in a page. Each fails
 * the test that caused it. A test that
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
      const uncaught: string[] = [];
      context.on('request', (r) => {
        const url = r.url();
        if (!url.startsWith(origin + '/') && !/^(data|blob):/.test(url)) offOrigin.push(url);
      });
      const watch = (text: string) => {
        if (/Content Security Policy|Refused to/.test(text)) violations.push(text);
      };
      context.on('page', (page) => {
        page.on('pageerror', (e) => uncaught.push(e.message));
        page.on('console', (m) => watch(m.text()));
        page.on('worker', (w) => w.on('console', (m) => watch(m.text())));
      });
      await use();
      expect(offOrigin, 'requests that left the origin').toEqual([]);
      expect(uncaught, 'errors uncaught in a page').toEqual([]);
      if (!test.info().annotations.some((a) => a.type === CSP_PROBE)) expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
