// The administrators' page, in a real browser.
import { expect, test } from '@playwright/test';
import { keys } from '../playwright.config';
import { open } from './helpers';

test('create user: created, then already there', async ({ page }) => {
  await open(page, '/admin');
  await page.locator('input[name="api-key"]').fill(keys.admin);
  await page.locator('input[name="email"]').fill('grace@example.com');
  await page.locator('input[name="first-name"]').fill('Grace');
  await page.locator('input[name="last-name"]').fill('Hopper');
  await page.getByRole('button', { name: 'Create user' }).click();
  const card = page.locator('.create-result .result');
  await expect(card).toContainText('User created');
  await expect(card).toContainText('Grace Hopper');
  const userId = await card.locator('.user-id').textContent();
  expect(userId).toMatch(/^[0-9a-f-]{36}$/);

  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(card).toContainText('User already there');
  await expect(card.locator('.user-id')).toHaveText(userId!);
});

test('a member key cannot create users', async ({ page }) => {
  await open(page, '/admin');
  await page.locator('input[name="api-key"]').fill(keys.member);
  await page.locator('input[name="email"]').fill('mallory@example.com');
  await page.getByRole('button', { name: 'Create user' }).click();
  // The answer to this create, not any error elsewhere on the page: refused, and nothing made.
  const answer = page.locator('.create-result');
  await expect(answer.locator('.result.error')).toContainText('administrator key');
  await expect(answer.locator('.result.error')).toHaveClass(/code-forbidden/);
  await expect(answer.locator('.created')).toHaveCount(0);
});
