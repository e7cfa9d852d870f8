// Only through the edge emulator (the "edge" project): what API Gateway and Lambda's limits do
// to requests that the local server alone would never show.
import { expect, test } from '@playwright/test';
import { keys } from '../playwright.config';

/** A multipart /check-credits body of exactly `size` bytes (the image padded with zeros). */
function multipart(size: number): { contentType: string; body: Buffer } {
  const boundary = 'edge-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\nada@example.com\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="shot.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const image = Buffer.alloc(size - head.length - tail.length);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([head, image, tail]) };
}

test('a POST without a usage-plan key is refused at the gateway, in the app error shape', async ({ request }) => {
  const reply = await request.post('/create-user', { data: { email: 'x@example.com' } });
  expect(reply.status()).toBe(403);
  const body = await reply.json();
  expect(body.error.code).toBe('forbidden');
  expect(body.error.message).toContain('That API key is not valid');
});

test('an upload over the multipart limit is a 413 however far it gets', async ({ request }) => {
  // Just over the app's multipart limit (4.45 MB, server/src/state.rs) and small enough to
  // reach the function once base64-encoded: the app answers, naming its limit.
  const near = multipart(4_669_440 + 4096);
  const app = await request.post('/check-credits', {
    headers: { 'x-api-key': keys.member, 'content-type': near.contentType },
    data: near.body,
  });
  expect(app.status()).toBe(413);
  expect((await app.json()).error.message).toContain('4.45 MB');

  // Too large for Lambda's 6 MB event once base64-encoded: API Gateway answers on its own.
  const far = multipart(5 * 1024 * 1024);
  const gateway = await request.post('/check-credits', {
    headers: { 'x-api-key': keys.admin, 'content-type': far.contentType },
    data: far.body,
  });
  expect(gateway.status()).toBe(413);
  expect(await gateway.json()).toEqual({ message: 'Request Too Long' });
});
