// Seats that end, on a server whose seats last one day (KIRO_SEAT_POLICY=days:1) by a clock the
// test moves (KIRO_TEST_CLOCK=movable, `clockURL`): a member is granted, reminded by mail, renews
// with a new screenshot, and at the end the sweep takes the seat back; the members list and the
// actions record show it, the screenshots already used are refused, and a new one grants again;
// an administrator extends the new seat from the members list, then makes it permanent.
import { APIRequestContext, expect, Page, test } from '@playwright/test';
import { clockURL, keys } from '../playwright.config';
import { fillRequest, fixture, open, outbox } from './helpers';

const ada = 'ada@example.com';

test('a one-day seat: reminded, renewed, taken back, and not granted again by old evidence', async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name === 'edge', 'the movable clock is refused in the deployed shape');
  test.setTimeout(180_000);

  const granted = await ask(page, 'depleted-light.png');
  await expect(granted).toHaveClass(/granted/);
  const firstEnd = await seatEnd(page);
  expect(firstEnd).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);

  // Halfway through the day the reminder is due: the sweep mails it, once.
  await moveClock(request, 13 * 3600);
  expect(await sweep(request)).toMatchObject({ reminded: 1, reclaimed: 0, failed: 0 });
  expect(await sweep(request)).toMatchObject({ reminded: 0, reclaimed: 0 });
  const reminders = outbox('clock', ada).filter((m) => m.subject === 'Kiro Pro: renew your seat');
  expect(reminders).toHaveLength(1);
  expect(reminders[0].raw).toContain("send this month's usage page");

  // A new screenshot renews: the seat runs one day past its old end.
  const renewed = await ask(page, 'depleted-dark.png');
  await expect(renewed).toHaveClass(/granted/);
  await expect(renewed).toContainText('Your Kiro Pro seat is renewed');
  const secondEnd = await seatEnd(page);
  expect(Date.parse(`${secondEnd}Z`) - Date.parse(`${firstEnd}Z`)).toBe(24 * 3600 * 1000);

  // Past the new end the sweep takes the seat back; the member is told.
  await moveClock(request, 36 * 3600);
  expect(await sweep(request)).toMatchObject({ reclaimed: 1, failed: 0 });
  expect(await sweep(request)).toMatchObject({ reclaimed: 0 });
  expect(outbox('clock', ada).filter((m) => m.subject === 'Kiro Pro: your seat has ended')).toHaveLength(1);
  await openAdmin(page);
  await expect(page.locator('.member-list tr[data-email="ada@example.com"]')).toHaveCount(0);
  const expired = page.locator('table.admin-actions tr[data-action="expire"]', { hasText: ada });
  await expect(expired).toHaveCount(1);
  await expect(expired).toContainText('system');

  // The evidence that got the seat never grants again; a new screenshot does.
  for (const used of ['depleted-light.png', 'depleted-dark.png']) {
    const refused = await ask(page, used);
    await expect(refused).toHaveClass(/denied/);
    await expect(refused).toContainText('You already got a Kiro Pro seat with this screenshot');
  }
  await expect(await ask(page, 'thousand-light.png')).toHaveClass(/granted/);
  const thirdEnd = await seatEnd(page);
  expect(thirdEnd).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);

  // An administrator gives one more day from the members list, then takes the end away.
  // The admin key allows one request a second (burst 5), and each change reloads the lists:
  // pace the clicks as a person would, two seconds apart.
  const row = page.locator('.member-list tr[data-email="ada@example.com"]');
  await page.waitForTimeout(2_000);
  await row.getByRole('button', { name: 'Extend' }).click();
  await expect(page.locator('.members .extended')).toContainText("ada@example.com's seat now ends at");
  await expect.poll(async () => Date.parse(`${(await row.locator('.seat-ends').textContent())!.trim()}Z`))
    .toBe(Date.parse(`${thirdEnd}Z`) + 24 * 3600 * 1000);
  await page.waitForTimeout(2_000);
  await row.getByRole('button', { name: 'Make permanent' }).click();
  await expect(page.locator('.members .extended')).toContainText("ada@example.com's seat no longer ends");
  await expect(row.locator('.seat-ends')).toHaveText('never');
  await expect(row.getByRole('button', { name: 'Extend' })).toHaveCount(0);
  await expect(page.locator('table.admin-actions tr[data-action="make_permanent"]', { hasText: ada })).toHaveCount(1);
});

/** Sends `screenshot` as Ada from the request page; the result once it is shown. */
async function ask(page: Page, screenshot: string) {
  await open(page, `${clockURL}/`);
  await fillRequest(page, keys.grant, ada, { server: 'clock' });
  await page.locator('input[type="file"]').setInputFiles(fixture(screenshot));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const result = page.locator('.result');
  await expect(result).toHaveClass(/granted|denied|review|error/);
  return result;
}

async function openAdmin(page: Page) {
  await open(page, `${clockURL}/admin`);
  await page.locator('input[name="api-key"]').fill(keys.admin);
  await expect(page.locator('.members .seats')).toContainText('Seats:');
}

/** Ada's seat end as the members list shows it ("YYYY-MM-DD HH:MM", UTC). */
async function seatEnd(page: Page) {
  await openAdmin(page);
  const cell = page.locator('.member-list tr[data-email="ada@example.com"] .seat-ends');
  await expect(cell).toHaveCount(1);
  return (await cell.textContent())!.trim();
}

async function moveClock(request: APIRequestContext, seconds: number) {
  const moved = await request.post(`${clockURL}/test/clock`, {
    headers: { 'x-api-key': keys.seatsAdmin },
    data: { advanceSeconds: seconds },
  });
  expect(moved.status(), await moved.text()).toBe(200);
}

async function sweep(request: APIRequestContext) {
  const swept = await request.post(`${clockURL}/seats/sweep`, { headers: { 'x-api-key': keys.seatsAdmin } });
  expect(swept.status(), await swept.text()).toBe(200);
  return swept.json();
}
