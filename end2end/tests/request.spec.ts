// The members' page, in a real browser: picker, paste, verdicts and every error message.
import { expect, test } from '@playwright/test';
import { keys } from '../playwright.config';
import { adversarial, fillRequest, fixture, open, outbox, pasteFile } from './helpers';

test('a member gets a code by mail, sends it with a depleted screenshot, is granted, the grant mail is in the outbox, and the admin table shows it', async ({ page }, testInfo) => {
  await open(page, '/');
  // A new code from the outbox (the helper clicks "Send code" and reads the mail).
  await fillRequest(page, keys.grant, 'ada@example.com', { fresh: true });
  const mailed = outbox(testInfo.project.name, 'ada@example.com').length;
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

  // Found by email: only Ada's decisions are listed; an address with none lists nothing.
  const decisions = page.locator('.decisions-card');
  await decisions.locator('input[name="search-email"]').fill('ADA@example.com');
  await decisions.getByRole('button', { name: 'Search' }).click();
  const rows = decisions.locator('table.decisions tbody tr');
  await expect(rows.locator('xpath=self::*[not(@data-email="ada@example.com")]')).toHaveCount(0);
  await expect(rows.first()).toHaveAttribute('data-email', 'ada@example.com');
  await decisions.locator('input[name="search-email"]').fill('nobody@example.com');
  await decisions.getByRole('button', { name: 'Search' }).click();
  await expect(decisions).toContainText('No decisions match.');
});

test('a pasted depleted screenshot is granted; a copy with another email waits beside it for an admin', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'cara@example.com');
  await pasteFile(page, fixture('cara-depleted-dark.png'));
  await expect(page.locator('.preview img')).toBeVisible();
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result')).toHaveClass(/granted/);

  // Finn's page is Cara's with only the email changed: not the same pixels, but alike.
  await open(page, '/');
  await fillRequest(page, keys.member, 'finn@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('finn-depleted-dark.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const result = page.locator('.result');
  await expect(result).toHaveClass(/review/);
  await expect(result).toContainText('looks almost the same as a screenshot another account was granted with');
  await expect(result).not.toContainText('cara@example.com');

  await open(page, '/admin');
  await page.locator('input[name="api-key"]').fill(keys.admin);
  const waiting = page.locator('.pending-item', { hasText: 'finn@example.com' });
  await expect(waiting.locator('figcaption')).toHaveText('The screenshot another account was granted with');
  // Both screenshots, side by side: Finn's and the one Cara was granted with.
  await expect(waiting.locator('.screenshot img')).toHaveCount(2);
  const [finn, cara] = await waiting.locator('.screenshot img').evaluateAll((imgs) =>
    imgs.map((img) => img.getBoundingClientRect().toJSON()));
  expect(cara.left).toBeGreaterThan(finn.right);
  expect(cara.top).toBeLessThan(finn.bottom);
  await waiting.getByRole('button', { name: 'Deny' }).click();
  await expect(waiting).toHaveCount(0);

  // Found by reason: Finn's request (denied now) was alike to another's; Cara's grant was not.
  const decisions = page.locator('.decisions-card');
  await decisions.locator('select[name="search-reason"]').selectOption('similar_screenshot');
  await decisions.getByRole('button', { name: 'Search' }).click();
  const rows = decisions.locator('table.decisions tbody tr');
  await expect(rows.locator('xpath=self::*[@data-email="finn@example.com"]').first()).toBeVisible();
  await expect(rows.locator('xpath=self::*[@data-email="cara@example.com"]')).toHaveCount(0);
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
  // The oldest waiting request's screenshot is shown at once (and, when the page is alike to
  // one another account was granted with, that one beside it).
  await expect(waiting.locator('.screenshot img').first()).toHaveAttribute('src', /^data:image\/png;base64,/);
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

test('a wrong or missing code is refused clearly, and nothing is read', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.codes, 'gil@example.com', { fresh: true });
  // A second code within the minute is refused with the reason, and the first still works.
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.locator('.field-error')).toContainText('less than a minute ago');
  const code = page.locator('input[name="code"]');
  const right = await code.inputValue();
  await code.fill(right === '000000' ? '000001' : '000000');
  // Dan's page: never granted by any test, so never claimed, so read whatever ran before.
  await page.locator('input[type="file"]').setInputFiles(fixture('dan-available-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const refused = page.locator('.result.error');
  await expect(refused).toHaveClass(/code-forbidden/);
  await expect(refused).toContainText('That code is not right: 4 more tries');
  await code.fill('');
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(refused).toContainText('Enter the 6-digit code we mail to gil@example.com');
  // The right code: now the screenshot is read (and it is Dan's page, not Gil's).
  await code.fill(right);
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result')).toHaveClass(/denied/);
  await expect(page.locator('.result')).toContainText('dan@example.com');
});

test('a wrong key gets a clear message', async ({ page }) => {
  await open(page, '/');
  // No code: the key is checked before anything else.
  await page.locator('input[name="api-key"]').fill('not-a-real-key');
  await page.locator('input[name="email"]').fill('ada@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result.error')).toContainText('That API key is not valid');
});

test('the rate limit is explained', async ({ page, request }) => {
  await open(page, '/');
  await fillRequest(page, keys.limited, 'ada@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  // Use up the limited key's burst with cheap requests (400s) until it answers 429, then ask
  // through the page at once (within the second a new request would take to earn).
  const statuses: number[] = [];
  while (statuses.length < 8 && !statuses.includes(429)) {
    const r = await request.post('/check-credits', {
      headers: { 'x-api-key': keys.limited },
      data: { email: 'not-an-email', image: '' },
    });
    statuses.push(r.status());
  }
  expect(statuses.slice(0, -1).every((s) => s === 400), `${statuses}`).toBe(true);
  expect(statuses.at(-1)).toBe(429);
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

test('while uploading the page shows the bytes sent, then that the screenshot is being read', async ({ page }) => {
  await open(page, '/');
  await fillRequest(page, keys.member, 'dan@example.com');
  await page.locator('input[type="file"]').setInputFiles(fixture('dan-available-light.png'));
  await expect(page.locator('.preview img')).toBeVisible();
  // A slow uplink (Chromium's network emulation), so the upload takes a second or two.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 64 * 1024,
  });
  // Every text the progress line shows, in order.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => {
      const text = document.querySelector('.upload')?.textContent;
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.upload progress')).toBeVisible();
  await expect(page.locator('.result')).toHaveClass(/denied/);
  await expect(page.locator('.upload')).toHaveCount(0);
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  const partial = seen
    .map((text) => text.match(/^Uploading: (\d+) KB of (\d+) KB$/))
    .filter((m): m is RegExpMatchArray => m !== null && Number(m[1]) < Number(m[2]));
  expect(partial.length, seen.join(' | ')).toBeGreaterThan(0);
  expect(seen[seen.length - 1], seen.join(' | ')).toMatch(/^Sent \d+ KB\. Reading your screenshot…$/);
});
