// Shared steps for the browser tests.
import { expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { dataDirs } from '../playwright.config';

export const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', 'screenshots', name);
export const adversarial = (name: string) => path.join(__dirname, '..', 'fixtures', 'adversarial', name);

/** Opens a page and waits until the WASM has hydrated it. */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

/** Fills the request form (without the screenshot). */
export async function fillRequest(page: Page, key: string, email: string) {
  await page.locator('input[name="api-key"]').fill(key);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="first-name"]').fill('Test');
}

/** Pastes a file as if from the clipboard (Ctrl/Cmd+V). */
export async function pasteFile(page: Page, file: string, type = 'image/png') {
  const fs = await import('fs');
  const bytes = Array.from(fs.readFileSync(file));
  await page.evaluate(
    ({ bytes, type }) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    },
    { bytes, type },
  );
}

/** A mail the server under test wrote to its outbox (`KIRO_DATA_DIR/outbox/*.eml`). */
export interface OutboxMail { to: string; subject: string; mode: number; raw: string }

/** The mails in `project`'s outbox addressed to `to`, oldest first. */
export function outbox(project: string, to: string): OutboxMail[] {
  const dir = path.join(__dirname, '..', dataDirs[project], 'outbox');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => {
    const file = path.join(dir, f);
    const raw = fs.readFileSync(file, 'utf8');
    const header = (name: string) => raw.match(new RegExp(`^${name}: (.*)$`, 'mi'))?.[1].trim() ?? '';
    return { to: header('To'), subject: header('Subject'), mode: fs.statSync(file).mode & 0o777, raw };
  }).filter((m) => m.to === to);
}
