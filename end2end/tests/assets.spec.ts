// The page's script, WASM and stylesheet carry this build's content hashes (cargo-leptos's
// hash.txt beside the server binary), which is what lets CloudFront and browsers keep them a year.
import { expect, test } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { serverDir } from '../playwright.config';
import { open } from './helpers';

const hashFile = path.join(serverDir, 'hash.txt');

test('the page loads its assets under the hashed names of this build, within its CSP', async ({ page }) => {
  const hashes = Object.fromEntries(
    fs.readFileSync(hashFile, 'utf8').trim().split('\n').map((line) => line.split(':').map((s) => s.trim())),
  );
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) violations.push(message.text());
  });
  const loaded: string[] = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith('/pkg/') && response.ok()) loaded.push(url.pathname);
  });
  await open(page, '/');
  expect(loaded.sort()).toEqual(
    [`kiro-access.${hashes.css}.css`, `kiro-access.${hashes.js}.js`, `kiro-access.${hashes.wasm}.wasm`]
      .map((name) => `/pkg/${name}`)
      .sort(),
  );
  // The hydration script ran under the page's nonce; nothing was refused.
  expect(violations).toEqual([]);
  // The stylesheet applied (style/main.css sets the body's font).
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  expect(font).toContain('system-ui');
});
