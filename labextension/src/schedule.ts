/**
 * The "Schedule this notebook" form as data: its initial values from the notebook's `parameters` cell,
 * and the `POST jobs` body built from what the user typed. Plain functions, tested without a browser;
 * `form.tsx` only renders and collects them. The server checks everything again and names the bad
 * field (its 400 message is shown in the form).
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { JobCreateIn, NotebookParametersOut, NotebookTaskIn, ParameterOut, TriggerIn } from './api';
import { ENGLISH } from './presenter';

/** How the job is triggered. */
export type TriggerKind = 'every' | 'cron' | 'at';

/** What the form holds. Parameters are text, except `bool` ones (a checkbox). */
export interface ScheduleFormValues {
  name: string;
  kind: TriggerKind;
  /** "10s", "5m", "1h30m", "1 day" */
  every: string;
  /** a crontab line: "0 9 * * 1-5" */
  cron: string;
  /** an `<input type="datetime-local">` value: "2026-12-01T08:00" */
  at: string;
  /** an IANA zone; "" for the server's */
  timezone: string;
  /** also run the job once right after creating it */
  runNow: boolean;
  parameters: Record<string, string | boolean>;
  /** "" for the notebook's kernel */
  kernelName: string;
  /** seconds for the whole run; "" for no limit */
  timeout: string;
}

/** A mistake in the form, with the field it is about. */
export class FormError extends Error {
  constructor(
    readonly field: string,
    message: string
  ) {
    super(message);
    this.name = 'FormError';
  }
}

/** What submitting the form does: create the job, then maybe run it once. */
export interface ScheduleRequest {
  body: JobCreateIn;
  runNow: boolean;
}

/** The notebook's file name without `.ipynb`: the default job name. */
export function defaultJobName(path: string): string {
  const base = path.split('/').pop() ?? path;
  return base.replace(/\.ipynb$/i, '') || base;
}

/** The browser's time zone ("" when it cannot tell). */
export function browserTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return '';
  }
}

/** The time zones the browser knows, for the form's suggestions. */
export function knownTimezones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  } catch {
    return [];
  }
}

/** The text a parameter's field starts with. */
export function parameterText(parameter: ParameterOut): string | boolean {
  if (!parameter.literal) {
    return ''; // the notebook computes it (`expression` is shown as the placeholder)
  }
  switch (parameter.type) {
    case 'bool':
      return parameter.default === true;
    case 'str':
      return typeof parameter.default === 'string' ? parameter.default : '';
    case 'int':
    case 'float':
      return String(parameter.default);
    default:
      return JSON.stringify(parameter.default);
  }
}

/** The form's first values for a notebook. */
export function initialValues(
  path: string,
  info: NotebookParametersOut | null,
  timezone: string = browserTimezone()
): ScheduleFormValues {
  const parameters: Record<string, string | boolean> = {};
  for (const parameter of info?.parameters ?? []) {
    parameters[parameter.name] = parameterText(parameter);
  }
  return {
    name: defaultJobName(path),
    kind: 'every',
    every: '1h',
    cron: '0 9 * * 1-5',
    at: '',
    timezone,
    runNow: false,
    parameters,
    kernelName: '',
    timeout: ''
  };
}

/**
 * The value to send for a parameter, or `undefined` to keep the notebook's default (the field is
 * unchanged, or empty for a computed default).
 *
 * @throws FormError when the text is not a value of the parameter's type
 */
export function parameterValue(
  parameter: ParameterOut,
  text: string | boolean,
  trans: TranslationBundle = ENGLISH
): unknown {
  const field = `parameters.${parameter.name}`;
  if (typeof text === 'boolean') {
    return parameter.literal && parameter.default === text ? undefined : text;
  }
  let value: unknown;
  if (parameter.type === 'str') {
    value = text;
  } else if (text.trim() === '') {
    if (parameter.literal && parameter.type !== 'NoneType') {
      throw new FormError(
        field,
        trans.__("%1: enter a value (the notebook's default is %2)", parameter.name, parameter.expression)
      );
    }
    return undefined;
  } else if (parameter.type === 'int') {
    if (!/^[-+]?\d+$/.test(text.trim())) {
      throw new FormError(field, trans.__("%1: '%2' is not a whole number", parameter.name, text));
    }
    value = Number(text.trim());
  } else if (parameter.type === 'float') {
    value = Number(text.trim());
    if (!Number.isFinite(value)) {
      throw new FormError(field, trans.__("%1: '%2' is not a number", parameter.name, text));
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch {
      throw new FormError(
        field,
        trans.__(
          '%1: \'%2\' is not a JSON value (text needs "quotes"; lists [1, 2]; objects {"a": 1})',
          parameter.name,
          text
        )
      );
    }
  }
  if (parameter.literal && JSON.stringify(value) === JSON.stringify(parameter.default)) {
    return undefined;
  }
  return value;
}

/** The `trigger` of the request. */
export function triggerOf(values: ScheduleFormValues, trans: TranslationBundle = ENGLISH): TriggerIn {
  switch (values.kind) {
    case 'every': {
      const every = values.every.trim();
      if (!every) {
        throw new FormError('every', trans.__('Enter how often it runs, e.g. 10s, 5m, 1h30m or 1 day'));
      }
      return { every: /^\d+(\.\d+)?$/.test(every) ? Number(every) : every };
    }
    case 'cron': {
      const cron = values.cron.trim().replace(/\s+/g, ' ');
      if (cron.split(' ').length !== 5) {
        throw new FormError(
          'cron',
          trans.__("'%1' is not a crontab line of 5 fields (minute hour day month weekday)", values.cron)
        );
      }
      return { cron };
    }
    case 'at': {
      const at = values.at.trim();
      if (!at) {
        throw new FormError('at', trans.__('Enter the date and time of the run'));
      }
      return { at: at.replace('T', ' ') };
    }
  }
}

/**
 * The `POST jobs` body for the notebook at `path` (relative to the server root).
 *
 * @throws FormError naming the field that is wrong
 */
export function buildRequest(
  path: string,
  values: ScheduleFormValues,
  info: NotebookParametersOut | null,
  trans: TranslationBundle = ENGLISH
): ScheduleRequest {
  const parameters: Record<string, unknown> = {};
  for (const parameter of info?.parameters ?? []) {
    const text = values.parameters[parameter.name];
    if (text === undefined) {
      continue;
    }
    const value = parameterValue(parameter, text, trans);
    if (value !== undefined) {
      parameters[parameter.name] = value;
    }
  }
  const task: NotebookTaskIn = { type: 'notebook', path, parameters };
  const body: JobCreateIn = { task, trigger: triggerOf(values, trans) };
  const name = values.name.trim();
  if (name) {
    body.name = name;
  }
  const timezone = values.timezone.trim();
  if (timezone) {
    body.timezone = timezone;
  }
  const kernelName = values.kernelName.trim();
  if (kernelName) {
    task.kernel_name = kernelName;
  }
  const timeout = values.timeout.trim();
  if (timeout) {
    const seconds = Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new FormError('timeout', trans.__("Timeout: '%1' is not a number of seconds above zero", timeout));
    }
    task.timeout = seconds;
  }
  return { body, runNow: values.runNow };
}
