// axe-core (Deque's accessibility rules, WCAG 2.x A and AA) on both pages as people meet them:
// freshly loaded, and with what a person makes appear (an answer, the admin lists).
import AxeBuilder from '@axe-core/playwright';
import { expect, Page, test } from '@playwright/test';
import { keys } from '../playwright.config';
import { fillRequest, fixture, open } from './helpers';

async function violations(page: Page) {
  const found = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  // Rule id, and where, so a failure says what to fix.
  return found.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('the request page has no accessibility violations, empty or with an answer', async ({ page }) => {
  await open(page, '/');
  expect(await violations(page)).toEqual([]);
  // The code step's answer and a refusal (an address outside the allowed domains).
  await fillRequest(page, keys.member, 'ida@example.com');
  await page.locator('input[name="email"]').fill('ada@elsewhere.io');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  await expect(page.locator('.result.error')).toBeVisible();
  expect(await violations(page)).toEqual([]);
});

test('the admin page has no accessibility violations, empty or with its lists', async ({ page }) => {
  await open(page, '/admin');
  expect(await violations(page)).toEqual([]);
  await page.locator('input[name="api-key"]').fill(keys.seatsAdmin);
  await expect(page.locator('.members .seats')).toContainText('Seats:');
  expect(await violations(page)).toEqual([]);
});
