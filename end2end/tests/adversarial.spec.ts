// The adversarial set (fixtures/adversarial, made before the rules were changed) through the
// page: the browser decodes, downscales (1600 px) and re-encodes each screenshot before the
// same rules see it, so this path can read differently from JSON or multipart. No screenshot
// may be granted unless its entry allows it. Between screenshots an administrator takes back
// a grant and denies a review, so each one is decided afresh (not "already Pro" or "already
// waiting").
import { expect, test } from '@playwright/test';
import * as fs from 'fs';
import { keys } from '../playwright.config';
import { adversarial, fillRequest, open } from './helpers';

type Entry = { requester: string; allowed: string[]; note: string };
const table: Record<string, Entry> = JSON.parse(fs.readFileSync(adversarial('expected.json'), 'utf8'));
const admin = { 'x-api-key': keys.admin };

test('no adversarial screenshot sent through the page gets a verdict its entry does not allow', async ({ page, request }, testInfo) => {
  // The page and the rules are the same behind the edge emulator; the edge project checks the
  // gateway, not the reader, so once is enough.
  test.skip(testInfo.project.name === 'edge', 'the page path is checked once, in the local project');
  test.setTimeout(600_000);
  expect(Object.keys(table).length).toBeGreaterThanOrEqual(30);
  const falseGrants: string[] = [];
  const wrong: string[] = [];
  const verdicts: Record<string, number> = {};
  for (const [file, entry] of Object.entries(table)) {
    // The member key allows one request a second: pace the asks.
    const paced = new Promise((resolve) => setTimeout(resolve, 1_100));
    await open(page, '/');
    await fillRequest(page, keys.member, entry.requester);
    await page.locator('input[type="file"]').setInputFiles(adversarial(file));
    await expect(page.locator('.preview')).toBeVisible();
    const answered = page.waitForResponse('**/api/request_pro');
    await page.getByRole('button', { name: 'Request Pro' }).click();
    const response = await answered;
    expect(response.status(), `${file}: ${await response.text()}`).toBe(200);
    const outcome = await response.json();
    verdicts[outcome.verdict] = (verdicts[outcome.verdict] ?? 0) + 1;
    if (!entry.allowed.includes(outcome.verdict)) {
      const line = `${file} (${entry.note}): got ${outcome.verdict} ${outcome.reason}, allowed ${entry.allowed}`;
      (outcome.verdict === 'granted' ? falseGrants : wrong).push(line);
    }
    // Start the next screenshot from a clean slate.
    if (outcome.verdict === 'granted') {
      const revoked = await request.post('/members/revoke', { headers: admin, data: { email: entry.requester } });
      expect(revoked.status()).toBe(200);
    } else if (outcome.verdict === 'review') {
      const denied = await request.post('/reviews/deny', { headers: admin, data: { recordKey: outcome.recordKey } });
      expect(denied.status()).toBe(200);
    }
    await paced;
  }
  console.log(`adversarial set through the page: ${JSON.stringify(verdicts)}`);
  expect(falseGrants, 'false grants').toEqual([]);
  expect(wrong, 'other verdicts not allowed').toEqual([]);
  // The set's genuine pages are allowed a grant; at least one should get it through the page.
  expect(verdicts.granted ?? 0).toBeGreaterThan(0);
});
