/**
 * A real browser for the page specs: Debian's Chromium driven by
 * playwright-core (which downloads no browser of its own), and pages that
 * record what a user would never see but a broken page shows: console errors
 * and warnings, uncaught exceptions, and Content-Security-Policy violations.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// The init script runs in the browser; this project's tsconfig has no DOM library.
declare const document: { addEventListener(type: 'securitypolicyviolation', listener: (event: CspViolation) => void): void };
declare const window: unknown;
interface CspViolation { violatedDirective: string; blockedURI: string; sourceFile: string; lineNumber: number; sample: string }

/** Where the browser is; ZIPTRACE_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.ZIPTRACE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for running as root in a closed network: no sandbox (root), no GPU
 * (headless), and none of the background connections Chromium makes on its
 * own (updates, sync, QUIC probes), which the network refuses and Chromium
 * would then complain about.
 */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Chromium, or fails saying how to install it: a missing browser is a failing spec, never a skipped one. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: the page specs need a real browser. Install it with \`apt-get install chromium\` (or set ZIPTRACE_CHROMIUM to a Chromium binary).`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

/** A fresh page and what went wrong on it. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, page errors, CSP violations, in order, as text. */
  problems: string[];
}

/**
 * A new context (no shared storage with other tests) at 1280×800, with one
 * page whose console, uncaught errors and CSP violations go to `problems`.
 */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const problems: string[] = [];
  // CSP violations as the page sees them; the binding survives navigations and reloads.
  await context.exposeBinding('__reportCspViolation', (_source, text: string) => {
    problems.push(`CSP violation: ${text}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation(text: string): void }).__reportCspViolation;
      void report(`${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
    });
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

/**
 * Retries `check` (an assertion) until it passes or `within` ms pass, then
 * throws its last error: for what the page shows after its own fetches.
 */
export async function eventually<T>(check: () => T | Promise<T>, within = 5000): Promise<T> {
  const deadline = Date.now() + within;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
