/**
 * Every word the panel and the form's checks produce goes through the translator they are given: a
 * bundle that marks what it translates shows any that does not.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { HealthOut } from '../src/api';
import { describe, expect, it } from 'vitest';

import { ENGLISH, formatRelative, healthView, jobView, runView, statusView } from '../src/presenter';
import { FormError, initialValues, parameterValue, triggerOf, buildRequest } from '../src/schedule';
import { jobOut, parametersOut, runOut } from './fixtures';

const mark = (text: string): string => `⟦${text}⟧`;

/** English, with every translated text between ⟦ ⟧. */
const MARKED: TranslationBundle = {
  __: (msgid: string, ...args: unknown[]) => mark(ENGLISH.__(msgid, ...args)),
  _n: (msgid: string, plural: string, n: number, ...args: unknown[]) => mark(ENGLISH._n(msgid, plural, n, ...args)),
  _p: (context: string, msgid: string, ...args: unknown[]) => mark(ENGLISH._p(context, msgid, ...args)),
  _np: (context: string, msgid: string, plural: string, n: number, ...args: unknown[]) =>
    mark(ENGLISH._np(context, msgid, plural, n, ...args)),
  gettext: (msgid: string, ...args: unknown[]) => mark(ENGLISH.gettext(msgid, ...args)),
  ngettext: (msgid: string, plural: string, n: number, ...args: unknown[]) =>
    mark(ENGLISH.ngettext(msgid, plural, n, ...args)),
  pgettext: (context: string, msgid: string, ...args: unknown[]) => mark(ENGLISH.pgettext(context, msgid, ...args)),
  npgettext: (context: string, msgid: string, plural: string, n: number, ...args: unknown[]) =>
    mark(ENGLISH.npgettext(context, msgid, plural, n, ...args)),
  dcnpgettext: (domain: string, context: string, msgid: string, plural: string, n: number, ...args: unknown[]) =>
    mark(ENGLISH.dcnpgettext(domain, context, msgid, plural, n, ...args))
};

const NOW = new Date('2026-03-02T10:00:00+00:00');

function formError(action: () => unknown): string {
  try {
    action();
  } catch (reason) {
    if (reason instanceof FormError) {
      return reason.message;
    }
    throw reason;
  }
  throw new Error('no FormError');
}

describe('the presenter translates', () => {
  it('statuses, times and counts', () => {
    expect(statusView('timed_out', MARKED).label).toBe('⟦timed out⟧');
    expect(formatRelative('2026-03-02T10:05:00Z', NOW, MARKED)).toBe('⟦in ⟦5 min⟧⟧');
    const job = jobView(jobOut(), NOW, MARKED);
    expect(job.runs).toBe('⟦3 runs⟧');
    expect(job.next).toMatch(/^⟦⟦in ⟦5 min⟧⟧ \(.+\)⟧$/);
    expect(jobView(jobOut({ next_run_time: null, paused: true, last_run: null }), NOW, MARKED)).toMatchObject({
      next: '⟦paused⟧',
      last: { label: '⟦not run yet⟧' }
    });
  });

  it('runs', () => {
    const run = runView(
      runOut({ outputs: ['html', 'ipynb', 'kernel_log'], status: 'failed', error_type: 'E', cell_index: 0, attempt: 2 }),
      NOW,
      MARKED
    );
    expect(run).toMatchObject({
      status: { label: '⟦failed⟧' },
      duration: '⟦4.5 s⟧',
      error: 'E⟦ (cell 1)⟧',
      attempt: '⟦attempt 2⟧'
    });
    expect(run.whenTitle).toMatch(/^⟦started .+⟧$/);
    expect(run.outputs.map(output => output.label)).toEqual(['⟦HTML⟧', '⟦Notebook⟧', '⟦kernel log⟧']);
  });

  it('the health line', () => {
    expect(healthView(null, null, MARKED).text).toBe('⟦Connecting…⟧');
    const health: HealthOut = {
      ok: true,
      version: '0.1.0',
      scheduler: { state: 'stopped', runs_jobs: true, timezone: null },
      store: { url: 'sqlite:///x.db' },
      counts: { jobs: 1, paused_jobs: 0, broken_jobs: 0, active_runs: 0 },
      error: null
    };
    expect(healthView(health, null, MARKED).text).toBe('⟦Scheduler stopped⟧');
  });
});

describe("the form's checks translate", () => {
  it('their messages', () => {
    const info = parametersOut();
    const values = { ...initialValues('a.ipynb', info, 'UTC'), every: ' ' };
    expect(formError(() => triggerOf(values, MARKED))).toBe('⟦Enter how often it runs, e.g. 10s, 5m, 1h30m or 1 day⟧');
    expect(formError(() => buildRequest('a.ipynb', { ...values, every: '1h', timeout: '-1' }, info, MARKED))).toBe(
      "⟦Timeout: '-1' is not a number of seconds above zero⟧"
    );
    const count = info.parameters.find(parameter => parameter.type === 'int');
    if (!count) {
      throw new Error('the fixture has no int parameter');
    }
    expect(formError(() => parameterValue(count, 'x', MARKED))).toBe(`⟦${count.name}: 'x' is not a whole number⟧`);
  });
});
