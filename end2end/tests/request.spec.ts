// The members' page, in a real browser: picker, paste, verdicts and every error message.
import { expect, test } from '@playwright/test';
import { keys } from '../playwright.config';
import { adversarial, fillRequest, fixture, open, outbox, pasteFile } from './helpers';

test('depleted screenshot via the file picker is granted, the grant mail is in the outbox, and the admin table shows it', async ({ page }, testInfo) => {
  const mailed = outbox(testInfo.project.name, 'ada@example.com').length;
  await open(page, '/');
  await fillRequest(page, keys.member, 'ada@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await expect(page.locator('.preview img')).toBeVisible();
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const result = page.locator('.result');
  await expect(result).toHaveClass(/granted/);
  await expect(result).toContainText('Welcome to Kiro Pro');
  // The member is told by mail too: one more message to Ada, the owner's alone to read.
  const mails = outbox(testInfo.project.name, 'ada@example.com');
  expect(mails).toHaveLength(mailed + 1);
  expect(mails[mailed]).toMatchObject({ subject: 'Kiro Pro: granted', mode: 0o600 });
  expect(mails[mailed].raw).toMatch(/^Content-Type: multipart\/alternative/m);

  await open(page, '/admin');
  await page.locator('input[name="api-key"]').fill(keys.admin);
  // The newest row for Ada (other tests' rows may mention her too).
  const row = page.locator('table.decisions tr[data-email="ada@example.com"]').first();
  await expect(row).toContainText('granted');
  await expect(row).toContainText('50 / 50');
});

test('a pasted depleted screenshot is granted', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'cara@example.com');
  await pasteFile(page, fixture('cara-depleted-dark.png'));
  await expect(page.locator('.preview img')).toBeVisible();
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result')).toHaveClass(/granted/);
});

test('credits still available are denied with the numbers read', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'dan@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('dan-available-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const result = page.locator('.result');
  await expect(result).toHaveClass(/denied/);
  await expect(result).toContainText('3 used of 50');
});

test('an uncertain screenshot waits for review; an admin sees it, approves it, and the member is Pro', async ({ page }) => {
  // Eve's email is on the page, but so are two others: a person must look.
  const ask = async () => {
    await open(page, '/');
    await fillRequest(page, keys.member, 'eve@example.org');
    await page.locator('input[type="file"]').setInputFiles(adversarial('email-several.png'));
    await page.getByRole('button', { name: 'Request Pro' }).click();
    return page.locator('.result');
  };
  const result = await ask();
  await expect(result).toHaveClass(/review/);
  await expect(result).toContainText('An administrator will look at your screenshot');
  await expect(result).toContainText('Nothing has been granted');
  await expect(await ask()).toContainText('already waiting for an administrator');

  await open(page, '/admin');
  await page.locator('input[name="api-key"]').fill(keys.admin);
  const waiting = page.locator('.pending-item', { hasText: 'eve@example.org' });
  await expect(waiting).toContainText('several');
  // The oldest waiting request's screenshot is shown at once.
  await expect(waiting.locator('.screenshot img')).toHaveAttribute('src', /^data:image\/png;base64,/);
  await waiting.locator('input[name="note"]').fill('the other emails are teammates in a chat');
  await waiting.getByRole('button', { name: 'Approve' }).click();
  await expect(waiting).toHaveCount(0);
  const row = page.locator('table.decisions tr[data-email="eve@example.org"]').first();
  await expect(row.locator('.verdict')).toContainText(/review: approved by admin-[0-9a-f]{8}/);
  await expect(row.locator('.verdict')).not.toContainText(keys.admin);

  const again = await ask();
  await expect(again).toContainText('already has Kiro Pro');
});

test('the pages send the key as x-api-key and never in the body, as API Gateway requires', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'fay@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('dan-available-light.png'));
  const sent = page.waitForRequest('**/api/request_pro');
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const request = await sent;
  expect(request.headers()['x-api-key']).toBe(keys.member);
  expect(request.postData() ?? '').not.toContain(keys.member);
  await expect(page.locator('.result')).toHaveClass(/denied/);

  await open(page, '/admin');
  const listed = page.waitForRequest('**/api/load_admin_page');
  await page.locator('input[name="api-key"]').fill(keys.admin);
  const adminRequest = await listed;
  expect(adminRequest.headers()['x-api-key']).toBe(keys.admin);
  expect(adminRequest.postData() ?? '').not.toContain(keys.admin);
});

test('a screenshot of another account is denied', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'zed@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('bob-depleted-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const result = page.locator('.result');
  await expect(result).toHaveClass(/denied/);
  await expect(result).toContainText('bob@example.com');
});

test('a wrong key gets a clear message', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, 'not-a-real-key', 'ada@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result.error')).toContainText('That API key is not valid');
});

test('the rate limit is explained', async ({ page, request }) => {
  await open(page, '/');
  await fillRequest(page, keys.limited, 'ada@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  // Use up the limited key's burst with cheap requests, then ask through the page at once
  // (within the second a new request would take to earn).
  for (let i = 0; i < 5; i++) {
    const r = await request.post('/check-credits', {
      headers: { 'x-api-key': keys.limited },
      data: { email: 'not-an-email', image: '' },
    });
    expect(r.status()).toBe(400);
  }
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result.error')).toContainText('Too many requests');
});

test('a file that is not an image is refused in the browser', async ({ page }) => {
  await open(page, '/');
  await page.locator('input[type="file"]').setInputFiles({
    name: 'notes.png',
    mimeType: 'image/png',
    buffer: Buffer.from('these are my notes, not a screenshot'),
  });
  await expect(page.locator('.field-error')).toContainText('not a PNG, JPEG or WebP image');
  await expect(page.locator('.preview img')).toHaveCount(0);
});

test('a network failure is explained', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'ada@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await page.route('**/api/request_pro', (route) => route.abort('connectionfailed'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result.error')).toContainText('Could not reach the server');
});

test('the key field hides and shows the key and remembers it for the tab', async ({ page }) => {
  await open(page, '/');
  const key = page.locator('input[name="api-key"]');
  await expect(key).toHaveAttribute('type', 'password');
  await key.fill(keys.member);
  await page.getByRole('button', { name: 'Show or hide the key' }).click();
  await expect(key).toHaveAttribute('type', 'text');
  await open(page, '/');
  await expect(page.locator('input[name="api-key"]')).toHaveValue(keys.member);
});
