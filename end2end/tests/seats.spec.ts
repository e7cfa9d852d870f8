// The seat cap, on a server whose group has one seat (KIRO_MAX_SEATS=1, `seatsURL`): once it is
// taken, a request that qualifies is not granted but waits for an administrator, who sees the
// seats used and allowed.
import { expect, test } from '@playwright/test';
import { keys, seatsURL } from '../playwright.config';
import { fillRequest, fixture, open } from './helpers';

test('with every seat taken a qualifying request waits, and the admin page shows the seats', async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name === 'edge', 'one server with a seat cap, in the local shape');
  // An administrator gives the one seat away.
  const created = await request.post(`${seatsURL}/create-user`, {
    headers: { 'x-api-key': keys.admin },
    data: { email: 'first@example.com' },
  });
  expect(created.status(), await created.text()).toBe(200);

  await open(page, `${seatsURL}/`);
  await fillRequest(page, keys.member, 'ada@example.com', { server: 'seats' });
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const result = page.locator('.result');
  await expect(result).toHaveClass(/review/);
  await expect(result).toContainText('every Kiro Pro seat the organisation pays for is taken');

  await open(page, `${seatsURL}/admin`);
  await page.locator('input[name="api-key"]').fill(keys.admin);
  await expect(page.locator('.members .seats')).toContainText('Seats: 1 used of 1');
  const waiting = page.locator('.pending-item', { hasText: 'ada@example.com' });
  await expect(waiting).toContainText('every Kiro Pro seat the organisation pays for is taken');
});
