import { z } from 'zod';

/**
 * The one schema for the environment. `parseEnv` takes a plain record so Node
 * (process.env) and Workers (the env binding) share it; it never reads process.env itself.
 */
const positiveInt = (what: string) =>
  z.string().regex(/^\d+$/, what).transform(Number).pipe(z.number().int().min(1, what));

/** A DNS name, an IPv4 address or a bracketed IPv6 address: what a Host header names, without the port. */
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/;

const BaseSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/|:memory:$)/, 'a libSQL URL: file:path, libsql://host, https://host or :memory:')
    .default('file:data/app.db'),
  DATABASE_AUTH_TOKEN: z.string().min(1, 'a non-empty token').optional(),
  PORT: z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'a port number')
    .transform(Number)
    .pipe(z.number().int('an integer port number').min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535'))
    .default(8787),
  HOST: z.string().min(1, 'a host name or address').default('127.0.0.1'),
  /** Unset: the demo is seeded only when no platform is configured (see EnvSchema). */
  SEED_DEMO: z
    .enum(['true', 'false', '1', '0'], { message: 'true or false' })
    .transform((v) => v === 'true' || v === '1')
    .optional(),
  /**
   * The chat simulator (pages and form posts at /, /chat, /local): it has no login, so it is for
   * a trusted machine. Unset: on for `npm start` (which listens on 127.0.0.1) unless a platform is
   * configured, off on Workers (a public URL). See `simulatorEnabled`.
   */
  SIMULATOR: z.enum(['on', 'off'], { message: 'on or off' }).optional(),
  /**
   * Host names the simulator answers besides loopback ones (localhost, 127.0.0.0/8, [::1]):
   * a page on any other name is refused, so DNS rebinding cannot reach it.
   */
  SIMULATOR_HOSTS: z
    .string()
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''))
    .pipe(z.array(z.string().regex(HOST_NAME, 'comma-separated host names like lvzhi.example.cn or 192.168.1.20 (no scheme, no port)')))
    .default([]),
  // Feishu (Lark). With none of these set, the local simulator is the only platform.
  FEISHU_APP_ID: z.string().regex(/^cli_[A-Za-z0-9]+$/, 'a Feishu app id like cli_a1b2c3').optional(),
  FEISHU_APP_SECRET: z.string().min(8, 'the app secret from the developer console').optional(),
  FEISHU_ENCRYPT_KEY: z.string().min(1, 'the Encrypt Key from 事件与回调 > 加密策略').optional(),
  FEISHU_VERIFICATION_TOKEN: z.string().min(1, 'the Verification Token from 事件与回调 > 加密策略').optional(),
  FEISHU_DOMAIN: z
    .string()
    .regex(/^(feishu|lark|https?:\/\/\S+)$/, 'feishu, lark, or a base URL like https://open.feishu.cn')
    .default('feishu'),
  FEISHU_MODE: z.enum(['webhook', 'ws'], { message: 'webhook or ws' }).default('webhook'),
  FEISHU_RATE_PER_SECOND: positiveInt('a whole number of messages per second').default(50),
  FEISHU_RATE_PER_MINUTE: positiveInt('a whole number of messages per minute').default(1000),
  FEISHU_RATE_PER_USER_PER_SECOND: positiveInt('a whole number of messages per second').default(5),
});

const FEISHU_VARS = ['FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'FEISHU_ENCRYPT_KEY', 'FEISHU_VERIFICATION_TOKEN'] as const;

/** Whether the environment names a chat platform (any FEISHU_ setting; later DINGTALK_ ones too). */
function anyPlatformSetting(record: Record<string, unknown>): boolean {
  return Object.keys(record).some((k) => k.startsWith('FEISHU_') || k.startsWith('DINGTALK_'));
}

/** Settings that only make sense together are checked together, naming each variable. */
export const EnvSchema = BaseSchema.superRefine((env, ctx) => {
  const anyFeishu = FEISHU_VARS.some((k) => env[k] !== undefined);
  if (!anyFeishu) return;
  if (!env.FEISHU_APP_ID) ctx.addIssue({ code: 'custom', path: ['FEISHU_APP_ID'], message: 'the app id (cli_…) whenever another FEISHU_ setting is given' });
  if (!env.FEISHU_APP_SECRET) ctx.addIssue({ code: 'custom', path: ['FEISHU_APP_SECRET'], message: 'the app secret whenever FEISHU_APP_ID is given' });
  if (env.FEISHU_MODE === 'webhook' && !env.FEISHU_ENCRYPT_KEY && !env.FEISHU_VERIFICATION_TOKEN)
    ctx.addIssue({ code: 'custom', path: ['FEISHU_VERIFICATION_TOKEN'], message: 'FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN in webhook mode, so callbacks can be verified' });
});

export type Config = Omit<z.infer<typeof EnvSchema>, 'SEED_DEMO'> & {
  /** Resolved: given, or true only when no platform is configured (a real deployment gets no demo people). */
  readonly SEED_DEMO: boolean;
  /** Some FEISHU_ (or DINGTALK_) setting is present: a real deployment, so the safe defaults apply. */
  readonly PLATFORM_CONFIGURED: boolean;
};

export type Runtime = 'node' | 'worker';

/**
 * The simulator has no login. It is on by default only for `npm start` with no platform
 * configured (a trial on one's own machine); otherwise only with SIMULATOR=on.
 */
export function simulatorEnabled(c: Pick<Config, 'SIMULATOR' | 'PLATFORM_CONFIGURED'>, runtime: Runtime): boolean {
  if (c.SIMULATOR !== undefined) return c.SIMULATOR === 'on';
  return runtime === 'node' && !c.PLATFORM_CONFIGURED;
}

/** localhost, 127.0.0.0/8 and ::1 (bracketed or not): addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || (/^127(\.\d{1,3}){3}$/.test(h) && h.split('.').every((p) => Number(p) <= 255));
}

/** What start-up must say loudly (at error level): settings that expose more than intended. */
export function startupWarnings(c: Pick<Config, 'SIMULATOR' | 'PLATFORM_CONFIGURED' | 'HOST'>, runtime: Runtime): string[] {
  const out: string[] = [];
  if (runtime === 'node' && simulatorEnabled(c, runtime) && !isLoopbackHost(c.HOST)) {
    out.push(
      `WARNING: the chat simulator is on and HOST=${c.HOST} is not a loopback address. The simulator has no login: ` +
        'anyone who can reach this port can act as anyone (start self-evaluations, sign, review). ' +
        'Set SIMULATOR=off for a real deployment, or HOST=127.0.0.1 for a trial.',
    );
  }
  return out;
}

/**
 * A database URL fit for a log: user info and query values (e.g. ?authToken=…) are replaced by
 * "***", the fragment dropped. file: and :memory: URLs carry no secret and are kept.
 */
export function redactDatabaseUrl(url: string): string {
  const [beforeFragment = ''] = url.split('#', 1);
  const q = beforeFragment.indexOf('?');
  const base = q < 0 ? beforeFragment : beforeFragment.slice(0, q);
  const query = q < 0 ? '' : beforeFragment.slice(q + 1);
  const shownBase = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  if (!query) return shownBase;
  const shownQuery = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => `${p.split('=', 1)[0]}=***`)
    .join('&');
  return `${shownBase}?${shownQuery}`;
}

export interface FeishuConfig {
  readonly appId: string;
  readonly appSecret: string;
  readonly encryptKey?: string;
  readonly verificationToken?: string;
  readonly domain: string;
  readonly mode: 'webhook' | 'ws';
  readonly rate: { readonly perSecond: number; readonly perMinute: number; readonly perUserPerSecond: number };
}

/** The Feishu settings, or null when Feishu is not configured. */
export function feishuConfig(c: Config): FeishuConfig | null {
  if (!c.FEISHU_APP_ID || !c.FEISHU_APP_SECRET) return null;
  return {
    appId: c.FEISHU_APP_ID,
    appSecret: c.FEISHU_APP_SECRET,
    encryptKey: c.FEISHU_ENCRYPT_KEY,
    verificationToken: c.FEISHU_VERIFICATION_TOKEN,
    domain: c.FEISHU_DOMAIN,
    mode: c.FEISHU_MODE,
    rate: { perSecond: c.FEISHU_RATE_PER_SECOND, perMinute: c.FEISHU_RATE_PER_MINUTE, perUserPerSecond: c.FEISHU_RATE_PER_USER_PER_SECOND },
  };
}

/** Values never echoed back in an error message. */
const SECRETS = new Set(['DATABASE_AUTH_TOKEN', 'FEISHU_APP_SECRET', 'FEISHU_ENCRYPT_KEY', 'FEISHU_VERIFICATION_TOKEN']);

export type EnvResult = { ok: true; config: Config } | { ok: false; errors: string[] };

export function parseEnv(record: Record<string, string | undefined>): EnvResult {
  // An empty string in the environment means "not set", as shells usually intend.
  const cleaned = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (parsed.success) {
    const platform = anyPlatformSetting(cleaned);
    return { ok: true, config: { ...parsed.data, SEED_DEMO: parsed.data.SEED_DEMO ?? !platform, PLATFORM_CONFIGURED: platform } };
  }
  const errors = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const given = cleaned[name];
    const shown = given === undefined ? '' : SECRETS.has(name) ? ' (value hidden)' : `, got ${JSON.stringify(given)}`;
    return `${name}: expected ${issue.message}${shown}`;
  });
  return { ok: false, errors };
}
