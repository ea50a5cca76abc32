/** The baseline for the callback bench: a bare Hono endpoint that reads the body and answers {}. */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/healthz', (c) => c.json({ ok: true }));
app.post('/feishu/webhook', async (c) => {
  await c.req.text();
  return c.json({});
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
