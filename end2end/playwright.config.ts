// Playwright drives Debian's Chromium against the release build of the server, started here on
// a fresh data directory with known keys.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 3100);
export const keys = {
  member: 'e2e-member-key',
  limited: 'e2e-limited-key',
  admin: 'e2e-admin-key',
};

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: {
    command:
      'rm -rf .data && mkdir -p .data && exec ../target/release/server',
    url: `http://127.0.0.1:${port}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    env: {
      KIRO_DATA_DIR: '.data',
      KIRO_MEMBER_KEYS: `${keys.member},${keys.limited}`,
      KIRO_ADMIN_KEYS: keys.admin,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: '../target/site',
      LEPTOS_OUTPUT_NAME: 'kiro-access',
      RUST_LOG: 'warn',
    },
  },
});
