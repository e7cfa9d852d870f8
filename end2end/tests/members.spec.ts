// Who may ask, and taking a seat back: an address outside the allowed domains is refused on
// the request page; an administrator revokes a member, and the members list and the record of
// administrator actions show it.
import { expect, test } from '@playwright/test';
import { keys } from '../playwright.config';
import { fixture, open } from './helpers';

test('an address outside the allowed domains is refused before anything is read', async ({ page }) => {
  await open(page, '/');
  await page.locator('input[name="api-key"]').fill(keys.member);
  await page.locator('input[name="email"]').fill('ada@elsewhere.io');
  // No code is mailed there, and the request is refused too.
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.locator('.field-error')).toContainText('example.com, example.org');
  await page.locator('input[type="file"]').setInputFiles(fixture('depleted-light.png'));
  await page.getByRole('button', { name: 'Request Pro' }).click();
  const refused = page.locator('.result.error');
  await expect(refused).toHaveClass(/code-forbidden/);
  await expect(refused).toContainText('example.com, example.org');
  await expect(refused).toContainText('ada@elsewhere.io');
});

test('an admin revokes a member: the list and the actions record show it', async ({ page }) => {
  await open(page, '/admin');
  // Its own admin key: admin.spec.ts spends the other's burst just before this runs.
  await page.locator('input[name="api-key"]').fill(keys.seatsAdmin);
  await page.locator('input[name="email"]').fill('hedy@example.com');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.locator('.create-result .result')).toContainText('User created');

  const member = page.locator('.member-list tr[data-email="hedy@example.com"]');
  await expect(member).toContainText(/created by admin-[0-9a-f]{8}/);
  await expect(page.locator('.members .seats')).toContainText(/Seats: \d+ used/);
  await member.getByRole('button', { name: 'Revoke' }).click();
  await member.locator('input[name="revoke-note"]').fill('left the team');
  await member.getByRole('button', { name: 'Revoke seat' }).click();

  await expect(page.locator('.members .revoked')).toContainText('hedy@example.com no longer has a Kiro Pro seat');
  // The lists reloaded after the revoke: the record shows it, and the members list (there)
  // no longer has Hedy.
  const revoked = page.locator('table.admin-actions tr[data-action="revoke"]', { hasText: 'hedy@example.com' });
  await expect(revoked).toContainText('left the team');
  await expect(page.locator('.members .seats')).toContainText(/Seats: \d+ used/);
  await expect(member).toHaveCount(0);
  await expect(revoked).toContainText(/admin-[0-9a-f]{8}/);
  await expect(revoked).not.toContainText(keys.seatsAdmin);
  const created = page.locator('table.admin-actions tr[data-action="create_user"]', { hasText: 'hedy@example.com' });
  await expect(created).toContainText('created and added to Kiro Pro');
});
