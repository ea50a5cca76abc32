/**
 * The Feishu client's HTTP on Node: node:http(s) on Node's default keep-alive agents instead
 * of the global fetch. Node 20's fetch (undici behind WHATWG streams) took about three times
 * the CPU per call (≈0.9 ms against ≈0.3 ms, the mock's share included) and, on a busy event
 * loop, answers were read later, which the rate limiter counts against the next window: at
 * hundreds of cards a second that is what kept a sender below its limit (npm run bench -- fanout).
 * Here the request is written before the call returns, and nothing but the body is buffered.
 */
import http from 'node:http';
import https from 'node:https';
import type { HttpAnswer, HttpTransport } from '../platforms/feishu/client';

export const nodeTransport: HttpTransport = (url, req) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    const request = client.request(target, { method: req.method, headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      // Also a connection closed in the middle of the body ('aborted'): that is no answer.
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        const headers = res.headers;
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const v = headers[name];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    const timer = setTimeout(() => request.destroy(Object.assign(new Error(`no answer within ${req.timeoutMs} ms`), { code: 'ETIMEDOUT' })), req.timeoutMs);
    request.on('error', fail);
    request.end(req.body);
  });
