/**
 * The scheme file format (评估方案), validated on load with messages that point at the
 * offending path. Pure: the caller reads the file.
 */
import { z } from 'zod';

const code = z.string().regex(/^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/, 'an indicator code like "1" or "1.2"');

type IndicatorNode = {
  code: string;
  title: string;
  maxPoints: number;
  scoringGuide?: string;
  evidence?: string;
  evidenceRequired?: boolean;
  explanationRequired?: boolean;
  children?: IndicatorNode[];
};

const IndicatorSchema: z.ZodType<IndicatorNode> = z.lazy(() =>
  z.strictObject({
    code,
    title: z.string().min(1),
    maxPoints: z.number().positive(),
    scoringGuide: z.string().optional(),
    evidence: z.string().optional(),
    evidenceRequired: z.boolean().optional(),
    explanationRequired: z.boolean().optional(),
    children: z.array(IndicatorSchema).optional(),
  }),
);

export const SchemeFileSchema = z
  .strictObject({
    code: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    version: z.number().int().positive().default(1),
    name: z.string().min(1),
    description: z.string().default(''),
    source: z.string().optional(),
    indicators: z.array(IndicatorSchema).min(1),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    const visit = (nodes: IndicatorNode[], path: (string | number)[]) => {
      nodes.forEach((n, i) => {
        const p = [...path, i];
        if (seen.has(n.code)) ctx.addIssue({ code: 'custom', path: [...p, 'code'], message: `duplicate indicator code ${n.code}` });
        seen.add(n.code);
        if (n.children && n.children.length > 0) {
          const sum = n.children.reduce((a, c) => a + c.maxPoints, 0);
          if (Math.abs(sum - n.maxPoints) > 1e-9)
            ctx.addIssue({ code: 'custom', path: [...p, 'maxPoints'], message: `${n.code} has maxPoints ${n.maxPoints} but its children add up to ${sum}` });
          visit(n.children, [...p, 'children']);
        }
      });
    };
    visit(s.indicators, ['indicators']);
  });

export type SchemeFile = z.infer<typeof SchemeFileSchema>;

export interface IndicatorRow {
  code: string;
  parentCode: string | null;
  level: number;
  ordinal: number;
  title: string;
  maxPoints: number;
  scoringGuide: string;
  evidence: string;
  evidenceRequired: boolean;
  explanationRequired: boolean;
}

export function parseSchemeFile(raw: unknown, source = 'scheme'): { ok: true; scheme: SchemeFile } | { ok: false; errors: string[] } {
  const parsed = SchemeFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, scheme: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => `${source}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`) };
}

/** The tree as rows in reading order (大项 before its 小项). */
export function flattenIndicators(scheme: SchemeFile): IndicatorRow[] {
  const rows: IndicatorRow[] = [];
  const visit = (nodes: IndicatorNode[], parent: string | null, level: number) => {
    for (const n of nodes) {
      rows.push({
        code: n.code, parentCode: parent, level, ordinal: rows.length, title: n.title, maxPoints: n.maxPoints,
        scoringGuide: n.scoringGuide ?? '', evidence: n.evidence ?? '', evidenceRequired: n.evidenceRequired ?? false, explanationRequired: n.explanationRequired ?? true,
      });
      if (n.children) visit(n.children, n.code, level + 1);
    }
  };
  visit(scheme.indicators, null, 1);
  return rows;
}
