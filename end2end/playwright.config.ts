// Playwright drives Debian's Chromium against the release build of the server, started here on
// a fresh data directory with known keys — twice: directly ("local"), and through the edge
// emulator ("edge": CloudFront and API Gateway's rules from infra/template.yaml in front of the
// Lambda package under a Runtime API), which is the shape users meet once deployed.
import { defineConfig } from '@playwright/test';
import * as path from 'path';

const port = Number(process.env.E2E_PORT ?? 3100);
const edgePort = port + 1;
/** A third server, local shape, whose group has one seat (`seats.spec.ts`). */
export const seatsURL = `http://127.0.0.1:${port + 2}`;
/** A fourth, local shape, whose seats last one day by a clock the test moves (`seat-ends.spec.ts`). */
export const clockURL = `http://127.0.0.1:${port + 3}`;
/** The release server binary, hash.txt beside it: the glibc build of `cargo leptos build
 * --release` unless KIRO_SERVER_DIR names another (scripts/test.sh: the static musl build). */
export const serverDir = process.env.KIRO_SERVER_DIR ?? path.resolve(__dirname, '..', 'target', 'release');
/** Each key has its own rate-limit bucket (1 req/s, burst 5, in the app and at the edge): tests
 * that run back to back and each spend a burst use different keys, or the second is refused
 * with 429 depending on how fast the machine ran the first (members.spec.ts after admin.spec.ts). */
export const keys = {
  member: 'e2e-member-key',
  limited: 'e2e-limited-key',
  admin: 'e2e-admin-key',
  seatsAdmin: 'e2e-seats-admin-key',
  /** request.spec.ts's wrong-code test spends four requests after the others spent `member`'s. */
  codes: 'e2e-codes-key',
  /** request.spec.ts's first test follows members.spec.ts and edge.spec.ts, which spend `member`'s
   * (CI at fa3f08d: refused 429 through the edge). */
  grant: 'e2e-grant-key',
};

/** Each project's server keeps its data (and its mail outbox) here, under end2end/. */
export const dataDirs: Record<string, string> = {
  local: '.data', edge: '.data-edge', seats: '.data-seats', clock: '.data-clock',
};

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  reporter: [['list']],
  projects: [
    { name: 'local', use: { baseURL: `http://127.0.0.1:${port}` }, testIgnore: /edge\.spec/ },
    { name: 'edge', use: { baseURL: `http://127.0.0.1:${edgePort}` } },
  ],
  use: {
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: `rm -rf ${dataDirs.local} && mkdir -p ${dataDirs.local} && exec '${serverDir}/server'`,
      url: `http://127.0.0.1:${port}/healthz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        ...appEnv(dataDirs.local),
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: '../target/site',
        LEPTOS_OUTPUT_NAME: 'kiro-access',
      },
    },
    {
      command: `rm -rf ${dataDirs.seats} && mkdir -p ${dataDirs.seats} && exec '${serverDir}/server'`,
      url: `${seatsURL}/healthz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        ...appEnv(dataDirs.seats),
        KIRO_MAX_SEATS: '1',
        LEPTOS_SITE_ADDR: seatsURL.replace('http://', ''),
        LEPTOS_SITE_ROOT: '../target/site',
        LEPTOS_OUTPUT_NAME: 'kiro-access',
      },
    },
    {
      command: `rm -rf ${dataDirs.clock} && mkdir -p ${dataDirs.clock} && exec '${serverDir}/server'`,
      url: `${clockURL}/healthz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        ...appEnv(dataDirs.clock),
        KIRO_SEAT_POLICY: 'days:1',
        // Refused by the configuration anywhere AWS is in play; here the test moves it.
        KIRO_TEST_CLOCK: 'movable',
        // The test sweeps when it has moved the clock, not a timer.
        KIRO_SWEEP_EVERY_SECS: '0',
        LEPTOS_SITE_ADDR: clockURL.replace('http://', ''),
        LEPTOS_SITE_ROOT: '../target/site',
        LEPTOS_OUTPUT_NAME: 'kiro-access',
      },
    },
    {
      command: `rm -rf ${dataDirs.edge} && mkdir -p ${dataDirs.edge} && exec python3 ../infra/tests/edge_emulator.py ${edgePort} ../target/site/pkg`,
      url: `http://127.0.0.1:${edgePort}/healthz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        // The usage plan's keys, as infra/rotate-keys.sh adds them to API Gateway.
        EDGE_API_KEYS: Object.values(keys).join(','),
        ...appEnv(`${process.cwd()}/${dataDirs.edge}`),
      },
    },
  ],
});

/** The app's own settings, the same for both shapes. */
function appEnv(dataDir: string) {
  return {
    KIRO_DATA_DIR: dataDir,
    KIRO_MEMBER_KEYS: [keys.member, keys.limited, keys.codes, keys.grant].join(','),
    KIRO_ADMIN_KEYS: `${keys.admin},${keys.seatsAdmin}`,
    // Every test's addresses are at these; members.spec.ts checks another is refused.
    KIRO_ALLOWED_DOMAINS: 'example.com,example.org',
    // The suite sends one address tens of screenshots a day (the adversarial set); the
    // per-address limit itself is held by server/tests/it/subaddress.rs.
    KIRO_REQUESTS_PER_ADDRESS: '500',
    // The server here is the static musl build (the Lambda package), which cannot load ONNX
    // Runtime's shared library: the browser suite reads with Tesseract. The default reader
    // (PP-OCR) is held to its figures by the integration tests (server/tests/it/unseen.rs).
    KIRO_ANALYZER: 'tesseract',
    RUST_LOG: 'warn',
  };
}
