// Shared steps for the browser tests.
import { expect, Page, test } from '@playwright/test';
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

/** Fills the request form (without the screenshot), with a code mailed to `email`: one still
 * good from an earlier test when there is one (`fresh` sends a new one regardless). `server`
 * names the server whose outbox to read, when the page is not the project's own. */
export async function fillRequest(
  page: Page, key: string, email: string,
  { fresh = false, server = test.info().project.name } = {},
) {
  await page.locator('input[name="api-key"]').fill(key);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="first-name"]').fill('Test');
  // The outbox of the server the page is on (`dataDirs`): the project's, or one named.
  const project = server;
  let code = fresh ? undefined : recentCode(project, email);
  if (!code) {
    const before = codeMails(project, email).length;
    // One code per address a minute: an earlier test may have had one for this address.
    test.info().setTimeout(test.info().timeout + 70_000);
    await expect(async () => {
      await page.getByRole('button', { name: 'Send code' }).click();
      await expect(page.locator('.code-sent')).toContainText(`We mailed a 6-digit code to ${email}`, { timeout: 5_000 });
    }).toPass({ intervals: [10_000], timeout: 65_000 });
    await expect.poll(() => codeMails(project, email).length).toBe(before + 1);
    code = recentCode(project, email);
  }
  await page.locator('input[name="code"]').fill(code!);
}

/** The mails with a code to `email`, oldest first. */
export function codeMails(project: string, email: string): OutboxMail[] {
  return outbox(project, email).filter((m) => m.subject.startsWith('Kiro Access code: '));
}

/** The newest code mailed to `email` in the last 9 minutes (codes work for 10). */
function recentCode(project: string, email: string): string | undefined {
  const mail = codeMails(project, email).filter((m) => Date.now() - m.mtimeMs < 9 * 60_000).pop();
  return mail?.subject.split(': ')[1];
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
export interface OutboxMail { to: string; subject: string; mode: number; mtimeMs: number; raw: string }

/** The mails in `project`'s outbox addressed to `to`, oldest first. */
export function outbox(project: string, to: string): OutboxMail[] {
  const dir = path.join(__dirname, '..', dataDirs[project], 'outbox');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => {
    const file = path.join(dir, f);
    const raw = fs.readFileSync(file, 'utf8');
    const header = (name: string) => raw.match(new RegExp(`^${name}: (.*)$`, 'mi'))?.[1].trim() ?? '';
    const stat = fs.statSync(file);
    return { to: header('To'), subject: header('Subject'), mode: stat.mode & 0o777, mtimeMs: stat.mtimeMs, raw };
  }).filter((m) => m.to === to);
}
