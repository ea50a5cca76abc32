/** The Node transport under the Feishu client: the same contract as fetch, against the mock and a raw server. */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFeishuClient } from '../platforms/feishu/client';
import { startMockFeishu, type MockFeishu } from '../platforms/feishu/mock-server';
import { nodeTransport } from './node-http';
import { feishuError } from '../test/feishu-error';

const APP = { appId: 'cli_nodehttp000001', appSecret: 'node-http-secret' };
const card = (title: string) => ({ schema: '2.0', header: { title: { tag: 'plain_text', content: title } }, body: { elements: [] } });

describe('node transport', () => {
  let mock: MockFeishu | null = null;
  let raw: Server | null = null;
  afterEach(async () => {
    await mock?.close();
    mock = null;
    if (raw) await new Promise<void>((resolve) => raw!.close(() => resolve()));
    raw = null;
  });

  /** A server answering every request with `handle`; returns its base URL. */
  const rawServer = async (handle: Parameters<typeof createServer>[1]) => {
    raw = createServer(handle);
    await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  };

  it('carries the client\'s calls: token, send (a repeated uuid gets the same message), patch, and a refusal with its code', async () => {
    mock = await startMockFeishu(APP);
    const client = createFeishuClient({ ...APP, domain: mock.url, transport: nodeTransport });
    const a = await client.sendCard('ou_a', card('一'), 'n-1');
    expect(await client.sendCard('ou_a', card('一'), 'n-1')).toEqual(a);
    await client.patchCard(a.messageId, card('二'));
    expect(mock.state.messages.map((m) => [m.receive_id, m.uuid])).toEqual([['ou_a', 'n-1']]);
    expect(mock.state.patches).toHaveLength(1);
    expect(mock.state.tokensIssued).toBe(1);
    expect(await feishuError(client.patchCard('om_nope', card('x')))).toMatchObject({ kind: 'permanent', code: 230001, detail: { status: 400 } });
  });

  it('a hung server times out and a dropped connection is no answer: both transient, nothing half-read', async () => {
    mock = await startMockFeishu(APP);
    const client = createFeishuClient({ ...APP, domain: mock.url, transport: nodeTransport, timeoutMs: 300 });
    await client.sendCard('ou_a', card('先'), 'h-0');
    mock.state.failNext({ route: 'send', network: 'hang' });
    const hung = await feishuError(client.sendCard('ou_a', card('x'), 'h-1'));
    expect(hung).toMatchObject({ kind: 'transient', code: null });
    expect(hung.msg).toContain('ETIMEDOUT');
    mock.state.failNext({ route: 'send', network: 'reset' });
    expect(await feishuError(client.sendCard('ou_a', card('x'), 'h-2'))).toMatchObject({ kind: 'transient', code: null });
    expect((await client.sendCard('ou_a', card('后'), 'h-3')).messageId).toMatch(/^om_/);
  });

  it('reads a plain-text answer and its headers; an answer cut off mid-body is no answer', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      if (req.url?.includes('tenant_access_token')) return void res.end(JSON.stringify({ code: 0, tenant_access_token: 't-raw', expire: 7200 }));
      if (req.headers['x-test'] === undefined && req.url?.includes('receive_id_type')) {
        res.writeHead(429, { 'content-type': 'text/plain', 'x-ogw-ratelimit-reset': '7' });
        return void res.end('Too Many Requests');
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"code":0,');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const client = createFeishuClient({ ...APP, domain: url, transport: nodeTransport, timeoutMs: 2000 });
    expect(await feishuError(client.sendCard('ou_a', card('x'), 'r-1'))).toMatchObject({ kind: 'rate_limited', code: null, resetSeconds: 7, msg: 'Too Many Requests' });
    const cut = await feishuError(client.patchCard('om_1', card('x')));
    expect(cut).toMatchObject({ kind: 'transient', code: null });
  });
});
