import { describe, expect, it } from 'vitest';
import { feishuConfig, isLoopbackHost, parseEnv, redactDatabaseUrl, simulatorEnabled, startupWarnings, type Config } from './env';

function configOf(record: Record<string, string | undefined>): Config {
  const r = parseEnv(record);
  if (!r.ok) throw new Error(`expected a config, got ${r.errors.join('; ')}`);
  return r.config;
}

function errorsOf(record: Record<string, string | undefined>): string[] {
  const r = parseEnv(record);
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.config)}`);
  return r.errors;
}

const DEFAULTS = {
  DATABASE_URL: 'file:data/app.db', PORT: 8787, HOST: '127.0.0.1', SEED_DEMO: true, SIMULATOR_HOSTS: [], PLATFORM_CONFIGURED: false,
  FEISHU_DOMAIN: 'feishu', FEISHU_MODE: 'webhook', FEISHU_RATE_PER_SECOND: 50, FEISHU_RATE_PER_MINUTE: 1000, FEISHU_RATE_PER_USER_PER_SECOND: 5,
};

describe('parseEnv', () => {
  it('fills every default from an empty environment', () => {
    const c = configOf({});
    expect(c).toEqual(DEFAULTS);
    expect(c.DATABASE_AUTH_TOKEN).toBeUndefined();
  });

  it('treats empty strings and undefined as unset', () => {
    expect(configOf({ DATABASE_URL: '', DATABASE_AUTH_TOKEN: '', PORT: '', HOST: '', SEED_DEMO: undefined })).toEqual(DEFAULTS);
  });

  it('ignores unrelated variables', () => {
    const c = configOf({ PATH: '/usr/bin', HOME: '/root', PORT: '9000' });
    expect(c).toEqual({ ...DEFAULTS, PORT: 9000 });
    expect(c).not.toHaveProperty('PATH');
  });

  it.each([
    { env: { DATABASE_URL: 'libsql://lvzhi-prod.example.turso.io', DATABASE_AUTH_TOKEN: 'eyJhbGciOi.tok' }, expected: { DATABASE_URL: 'libsql://lvzhi-prod.example.turso.io', DATABASE_AUTH_TOKEN: 'eyJhbGciOi.tok' } },
    { env: { DATABASE_URL: 'https://db.example.cn', DATABASE_AUTH_TOKEN: 'secret' }, expected: { DATABASE_URL: 'https://db.example.cn', DATABASE_AUTH_TOKEN: 'secret' } },
    { env: { DATABASE_URL: 'http://127.0.0.1:8080' }, expected: { DATABASE_URL: 'http://127.0.0.1:8080' } },
    { env: { DATABASE_URL: 'wss://db.example.cn' }, expected: { DATABASE_URL: 'wss://db.example.cn' } },
    { env: { DATABASE_URL: 'file:/var/lib/lvzhi/app.db' }, expected: { DATABASE_URL: 'file:/var/lib/lvzhi/app.db' } },
    { env: { DATABASE_URL: ':memory:' }, expected: { DATABASE_URL: ':memory:' } },
    { env: { PORT: '1' }, expected: { PORT: 1 } },
    { env: { PORT: '65535' }, expected: { PORT: 65535 } },
    { env: { HOST: '0.0.0.0' }, expected: { HOST: '0.0.0.0' } },
    { env: { SEED_DEMO: 'false' }, expected: { SEED_DEMO: false } },
    { env: { SEED_DEMO: '0' }, expected: { SEED_DEMO: false } },
    { env: { SEED_DEMO: '1' }, expected: { SEED_DEMO: true } },
    { env: { SEED_DEMO: 'true' }, expected: { SEED_DEMO: true } },
    { env: { SIMULATOR: 'off' }, expected: { SIMULATOR: 'off' } },
    { env: { SIMULATOR: 'on' }, expected: { SIMULATOR: 'on' } },
    { env: { SIMULATOR_HOSTS: 'lvzhi.example.cn, 192.168.1.20,[fd00::1] ,LVZHI.Local' }, expected: { SIMULATOR_HOSTS: ['lvzhi.example.cn', '192.168.1.20', '[fd00::1]', 'lvzhi.local'] } },
  ])('accepts $env', ({ env, expected }) => {
    expect(configOf(env)).toEqual({ ...DEFAULTS, ...expected });
  });

  it.each([
    { name: 'SIMULATOR', value: 'yes', expects: 'on or off' },
    { name: 'PORT', value: 'abc', expects: 'a port number' },
    { name: 'PORT', value: '0', expects: 'a port from 1 to 65535' },
    { name: 'PORT', value: '70000', expects: 'a port from 1 to 65535' },
    { name: 'PORT', value: '65536', expects: 'a port from 1 to 65535' },
    { name: 'PORT', value: '-1', expects: 'a port from 1 to 65535' },
    { name: 'PORT', value: '80.5', expects: 'an integer port number' },
    { name: 'DATABASE_URL', value: 'postgres://x', expects: 'a libSQL URL' },
    { name: 'DATABASE_URL', value: 'data/app.db', expects: 'a libSQL URL' },
    { name: 'DATABASE_URL', value: ':memory:x', expects: 'a libSQL URL' },
    { name: 'SEED_DEMO', value: 'maybe', expects: 'true or false' },
    { name: 'SEED_DEMO', value: 'yes', expects: 'true or false' },
    { name: 'SIMULATOR_HOSTS', value: 'http://lvzhi.example.cn', expects: 'comma-separated host names' },
    { name: 'SIMULATOR_HOSTS', value: 'lvzhi.example.cn:8787', expects: 'comma-separated host names' },
    { name: 'SIMULATOR_HOSTS', value: 'a.example, b c', expects: 'comma-separated host names' },
  ])('$name=$value names the variable, what it expects ($expects) and the value given', ({ name, value, expects }) => {
    const errors = errorsOf({ [name]: value });
    expect(errors).toHaveLength(1);
    const [e] = errors;
    expect(e).toMatch(new RegExp(`^${name}: `));
    expect(e).toContain(`expected ${expects}`);
    expect(e).toContain(`got ${JSON.stringify(value)}`);
  });

  it('words an error as "NAME: expected …, got "value""', () => {
    expect(errorsOf({ PORT: 'abc' })).toEqual(['PORT: expected a port number, got "abc"']);
  });

  it('reports several bad variables together, one error each', () => {
    const errors = errorsOf({ PORT: 'abc', DATABASE_URL: 'postgres://x', SEED_DEMO: 'maybe', HOST: 'lvzhi.local' });
    expect(errors).toHaveLength(3);
    expect(errors.map((e) => e.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'PORT', 'SEED_DEMO']);
    expect(errors.find((e) => e.startsWith('PORT'))).toContain('"abc"');
    expect(errors.find((e) => e.startsWith('DATABASE_URL'))).toContain('"postgres://x"');
    expect(errors.find((e) => e.startsWith('SEED_DEMO'))).toContain('"maybe"');
  });
});

describe('parseEnv refuses numbers JavaScript would coerce', () => {
  it.each(['0x50', '1e3', ' 80', '8080abc'])('PORT=%j is refused', (port) => {
    const r = parseEnv({ PORT: port });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^PORT: expected a port number/);
  });
});

describe('Feishu settings', () => {
  const app = { FEISHU_APP_ID: 'cli_a1b2c3d4', FEISHU_APP_SECRET: 'secret-secret-1234' };

  it('leaves Feishu off when nothing is set', () => {
    expect(feishuConfig(configOf({}))).toBeNull();
  });

  it('accepts an app with an encrypt key or a verification token, on any domain form', () => {
    expect(feishuConfig(configOf({ ...app, FEISHU_ENCRYPT_KEY: 'k' }))).toMatchObject({ appId: 'cli_a1b2c3d4', mode: 'webhook', domain: 'feishu', encryptKey: 'k' });
    expect(feishuConfig(configOf({ ...app, FEISHU_VERIFICATION_TOKEN: 't', FEISHU_DOMAIN: 'lark' }))?.domain).toBe('lark');
    expect(feishuConfig(configOf({ ...app, FEISHU_VERIFICATION_TOKEN: 't', FEISHU_DOMAIN: 'http://127.0.0.1:9999' }))?.domain).toBe('http://127.0.0.1:9999');
    expect(feishuConfig(configOf({ ...app, FEISHU_MODE: 'ws' }))?.mode).toBe('ws');
  });

  it.each([
    [{ FEISHU_APP_ID: 'cli_a1b2c3d4' }, 'FEISHU_APP_SECRET: expected the app secret'],
    [{ FEISHU_APP_SECRET: 'secret-secret-1234', FEISHU_ENCRYPT_KEY: 'k' }, 'FEISHU_APP_ID: expected the app id'],
    [{ ...app }, 'FEISHU_VERIFICATION_TOKEN: expected FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN'],
    [{ ...app, FEISHU_ENCRYPT_KEY: 'k', FEISHU_DOMAIN: 'larksuite' }, 'FEISHU_DOMAIN: expected feishu, lark, or a base URL'],
    [{ ...app, FEISHU_ENCRYPT_KEY: 'k', FEISHU_MODE: 'socket' }, 'FEISHU_MODE: expected webhook or ws'],
    [{ ...app, FEISHU_APP_ID: 'a1b2', FEISHU_ENCRYPT_KEY: 'k' }, 'FEISHU_APP_ID: expected a Feishu app id'],
  ])('refuses %j', (env, message) => {
    expect(errorsOf(env).join('\n')).toContain(message);
  });

  it('never echoes a secret in an error', () => {
    const errors = errorsOf({ FEISHU_APP_ID: 'cli_x1', FEISHU_APP_SECRET: 'short' });
    expect(errors.join('\n')).toContain('FEISHU_APP_SECRET');
    expect(errors.join('\n')).not.toContain('short');
  });
});

describe('safe defaults when a platform is configured', () => {
  const feishu = { FEISHU_APP_ID: 'cli_a1b2c3d4', FEISHU_APP_SECRET: 'secret-secret-1234', FEISHU_ENCRYPT_KEY: 'k' };

  it('without a platform: the demo is seeded and npm start serves the simulator (Workers do not)', () => {
    const c = configOf({});
    expect(c.SEED_DEMO).toBe(true);
    expect(simulatorEnabled(c, 'node')).toBe(true);
    expect(simulatorEnabled(c, 'worker')).toBe(false);
  });

  it.each([
    ['a complete Feishu app', feishu],
    ['any single FEISHU_ setting', { FEISHU_DOMAIN: 'lark' }],
    ['a DINGTALK_ setting', { DINGTALK_CLIENT_ID: 'ding123' }],
  ])('with %s: no demo and no simulator unless asked for', (_what, env) => {
    const c = configOf(env);
    expect(c.PLATFORM_CONFIGURED).toBe(true);
    expect(c.SEED_DEMO).toBe(false);
    expect(simulatorEnabled(c, 'node')).toBe(false);
    expect(simulatorEnabled(c, 'worker')).toBe(false);
  });

  it('an empty FEISHU_ variable is not a platform', () => {
    const c = configOf({ FEISHU_APP_ID: '' });
    expect(c.PLATFORM_CONFIGURED).toBe(false);
    expect(c.SEED_DEMO).toBe(true);
  });

  it('SIMULATOR=on and SEED_DEMO=true given explicitly still win', () => {
    const c = configOf({ ...feishu, SIMULATOR: 'on', SEED_DEMO: 'true' });
    expect(c.SEED_DEMO).toBe(true);
    expect(simulatorEnabled(c, 'node')).toBe(true);
    expect(simulatorEnabled(c, 'worker')).toBe(true);
    expect(simulatorEnabled(configOf({ SIMULATOR: 'off' }), 'node')).toBe(false);
    expect(configOf({ SEED_DEMO: 'false' }).SEED_DEMO).toBe(false);
  });

  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]'])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '192.168.1.20', '128.0.0.1', '127.0.0.256', '127.0.0.1.evil.example', 'localhost.evil.example', 'example.com'])('%s is not loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });

  it('warns when the simulator listens beyond this machine, naming HOST and the way out', () => {
    const warnings = startupWarnings(configOf({ HOST: '0.0.0.0' }), 'node');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('HOST=0.0.0.0');
    expect(warnings[0]).toContain('SIMULATOR=off');
    expect(startupWarnings(configOf({ ...feishu, HOST: '0.0.0.0', SIMULATOR: 'on' }), 'node')).toHaveLength(1);
  });

  it('is quiet on loopback, with the simulator off, and with a platform and no SIMULATOR=on', () => {
    expect(startupWarnings(configOf({}), 'node')).toEqual([]);
    expect(startupWarnings(configOf({ HOST: '::1' }), 'node')).toEqual([]);
    expect(startupWarnings(configOf({ HOST: '0.0.0.0', SIMULATOR: 'off' }), 'node')).toEqual([]);
    expect(startupWarnings(configOf({ ...feishu, HOST: '0.0.0.0' }), 'node')).toEqual([]);
  });
});

describe('redactDatabaseUrl', () => {
  it.each([
    ['libsql://lvzhi-org.turso.io?authToken=eyJhbGciOi.secret', 'libsql://lvzhi-org.turso.io?authToken=***'],
    ['https://admin:p4ss@db.example.cn:8080/v2?authToken=s3cret&tls=1#frag', 'https://***@db.example.cn:8080/v2?authToken=***&tls=***'],
    ['wss://token@db.example.cn', 'wss://***@db.example.cn'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['file:data/app.db', 'file:data/app.db'],
    [':memory:', ':memory:'],
  ])('%s → %s', (url, shown) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
  });

  it('keeps no part of a secret', () => {
    const shown = redactDatabaseUrl('libsql://user:pw-SECRET@h.example?authToken=tok-SECRET&x=SECRET');
    expect(shown).not.toMatch(/SECRET|pw-|tok-/);
  });
});
