import { describe, expect, it } from 'vitest';

import type { ParameterOut } from '../src/api';
import {
  buildRequest,
  defaultJobName,
  FormError,
  initialValues,
  parameterText,
  parameterValue,
  triggerOf,
  type ScheduleFormValues
} from '../src/schedule';
import { parametersOut } from './fixtures';

const INFO = parametersOut();
function param(name: string): ParameterOut {
  const found = INFO.parameters.find(p => p.name === name);
  if (!found) {
    throw new Error(`no parameter ${name} in the fixture`);
  }
  return found;
}

function values(changes: Partial<ScheduleFormValues> = {}): ScheduleFormValues {
  return { ...initialValues('reports/daily.ipynb', INFO, 'Europe/Paris'), ...changes };
}

describe('initialValues', () => {
  it('starts from the notebook name and its parameters', () => {
    expect(values()).toEqual({
      name: 'daily',
      kind: 'every',
      every: '1h',
      cron: '0 9 * * 1-5',
      at: '',
      timezone: 'Europe/Paris',
      runNow: false,
      parameters: {
        region: 'EU',
        days: '7',
        ratio: '0.5',
        verbose: false,
        columns: '["a","b"]',
        limit: 'null',
        day: ''
      },
      kernelName: '',
      timeout: ''
    });
  });

  it('works without parameters', () => {
    expect(initialValues('a.ipynb', null, '').parameters).toEqual({});
    expect(defaultJobName('x/y/Report 2.IPYNB')).toBe('Report 2');
    expect(parameterText(param('verbose'))).toBe(false);
  });
});

describe('buildRequest', () => {
  it('sends only the parameters that changed', () => {
    const request = buildRequest('reports/daily.ipynb', values(), INFO);
    expect(request).toEqual({
      body: {
        name: 'daily',
        timezone: 'Europe/Paris',
        task: { type: 'notebook', path: 'reports/daily.ipynb', parameters: {} },
        trigger: { every: '1h' }
      },
      runNow: false
    });
  });

  it('converts each parameter to its type', () => {
    const typed = values({
      parameters: {
        region: 'US',
        days: ' 30 ',
        ratio: '1e-3',
        verbose: true,
        columns: '["c"]',
        limit: '5',
        day: '"2026-01-01"'
      },
      runNow: true,
      kernelName: 'python3',
      timeout: '600'
    });
    const request = buildRequest('reports/daily.ipynb', typed, INFO);
    expect(request.runNow).toBe(true);
    expect(request.body.task).toEqual({
      type: 'notebook',
      path: 'reports/daily.ipynb',
      kernel_name: 'python3',
      timeout: 600,
      parameters: { region: 'US', days: 30, ratio: 0.001, verbose: true, columns: ['c'], limit: 5, day: '2026-01-01' }
    });
  });

  it('leaves out an empty name and time zone', () => {
    const request = buildRequest('a.ipynb', values({ name: ' ', timezone: '' }), null);
    expect(request.body).toEqual({ task: { type: 'notebook', path: 'a.ipynb', parameters: {} }, trigger: { every: '1h' } });
  });

  it('names the bad field', () => {
    const bad = (changes: Partial<ScheduleFormValues>): FormError => {
      try {
        buildRequest('reports/daily.ipynb', values(changes), INFO);
      } catch (error) {
        expect(error).toBeInstanceOf(FormError);
        return error as FormError;
      }
      throw new Error('no error');
    };
    expect(bad({ timeout: '-1' })).toMatchObject({ field: 'timeout', message: "Timeout: '-1' is not a number of seconds above zero" });
    expect(bad({ parameters: { ...values().parameters, days: '1.5' } })).toMatchObject({
      field: 'parameters.days',
      message: "days: '1.5' is not a whole number"
    });
    expect(bad({ parameters: { ...values().parameters, days: '' } }).message).toBe(
      "days: enter a value (the notebook's default is 7)"
    );
    expect(bad({ parameters: { ...values().parameters, columns: '[a' } }).message).toMatch(/^columns: '\[a' is not a JSON value/);
  });
});

describe('parameterValue', () => {
  it('keeps computed defaults unless a value is given', () => {
    expect(parameterValue(param('day'), '')).toBeUndefined();
    expect(parameterValue(param('day'), '3')).toBe(3);
    expect(parameterValue(param('limit'), '')).toBeUndefined();
  });

  it('refuses a float that is not a number', () => {
    expect(() => parameterValue(param('ratio'), 'abc')).toThrow("ratio: 'abc' is not a number");
  });
});

describe('triggerOf', () => {
  it('builds each kind of trigger', () => {
    expect(triggerOf(values({ kind: 'every', every: ' 10s ' }))).toEqual({ every: '10s' });
    expect(triggerOf(values({ kind: 'every', every: '90' }))).toEqual({ every: 90 });
    expect(triggerOf(values({ kind: 'cron', cron: ' 0  9 * * 1-5 ' }))).toEqual({ cron: '0 9 * * 1-5' });
    expect(triggerOf(values({ kind: 'at', at: '2026-12-01T08:00' }))).toEqual({ at: '2026-12-01 08:00' });
  });

  it('refuses empty or malformed ones', () => {
    expect(() => triggerOf(values({ kind: 'every', every: '' }))).toThrow('Enter how often it runs');
    expect(() => triggerOf(values({ kind: 'cron', cron: '0 9 * *' }))).toThrow(
      "'0 9 * *' is not a crontab line of 5 fields (minute hour day month weekday)"
    );
    expect(() => triggerOf(values({ kind: 'at', at: '' }))).toThrow('Enter the date and time of the run');
  });
});
