/**
 * The body of the "Schedule this notebook" dialog: a thin view over `ScheduleFormValues`
 * (`schedule.ts` builds the request from them).
 */
import { Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { NotebookParametersOut, ParameterOut } from './api';
import type { ScheduleFormValues, TriggerKind } from './schedule';

function triggerKinds(trans: TranslationBundle): { kind: TriggerKind; label: string }[] {
  return [
    { kind: 'every', label: trans.__('Every') },
    { kind: 'cron', label: trans.__('Cron') },
    { kind: 'at', label: trans.__('Once at') }
  ];
}

/** The schedule form, as a dialog body whose value is what the user typed. */
export class ScheduleForm extends ReactWidget implements Dialog.IBodyWidget<ScheduleFormValues> {
  /**
   * @param path the notebook, relative to the server root
   * @param info its parameters cell (`null` when it could not be read: `infoError` says why)
   * @param values the values to start with (the previous ones when the server refused them)
   * @param error what was wrong with them, shown above the buttons
   * @param trans the words of `ITranslator.load('nbsched')`
   */
  constructor(
    private readonly _options: {
      path: string;
      info: NotebookParametersOut | null;
      infoError?: string;
      values: ScheduleFormValues;
      error?: string;
      timezones: string[];
      trans: TranslationBundle;
    }
  ) {
    super();
    this._values = { ..._options.values, parameters: { ..._options.values.parameters } };
    this.addClass('jp-nbsched-form');
  }

  /** What the user typed. */
  getValue(): ScheduleFormValues {
    return this._values;
  }

  protected render(): React.ReactElement {
    return (
      <FormView
        {...this._options}
        values={this._values}
        onChange={values => {
          this._values = values;
          this.update();
        }}
      />
    );
  }

  private _values: ScheduleFormValues;
}

function FormView(props: {
  path: string;
  info: NotebookParametersOut | null;
  infoError?: string;
  values: ScheduleFormValues;
  error?: string;
  timezones: string[];
  trans: TranslationBundle;
  onChange: (values: ScheduleFormValues) => void;
}): React.ReactElement {
  const { values, info, trans } = props;
  const set = (changes: Partial<ScheduleFormValues>): void => props.onChange({ ...values, ...changes });
  const setParameter = (name: string, value: string | boolean): void =>
    props.onChange({ ...values, parameters: { ...values.parameters, [name]: value } });
  return (
    <div className="jp-nbsched-form-body">
      {props.error && (
        <div className="jp-nbsched-form-error" role="alert">
          {props.error}
        </div>
      )}
      <div className="jp-nbsched-form-row">
        <span className="jp-nbsched-form-label">{trans.__('Notebook')}</span>
        <code className="jp-nbsched-form-path">{props.path}</code>
      </div>
      <label className="jp-nbsched-form-row">
        <span className="jp-nbsched-form-label">{trans.__('Name')}</span>
        <input
          className="jp-mod-styled"
          name="name"
          value={values.name}
          onChange={event => set({ name: event.target.value })}
        />
      </label>
      <fieldset className="jp-nbsched-form-row jp-nbsched-form-kinds">
        <legend className="jp-nbsched-form-label">{trans.__('Schedule')}</legend>
        {triggerKinds(trans).map(({ kind, label }) => (
          <label key={kind} className="jp-nbsched-form-kind">
            <input
              type="radio"
              name="kind"
              value={kind}
              checked={values.kind === kind}
              onChange={() => set({ kind })}
            />
            {label}
          </label>
        ))}
      </fieldset>
      {values.kind === 'every' && (
        <label className="jp-nbsched-form-row">
          <span className="jp-nbsched-form-label">{trans.__('Every')}</span>
          <input
            className="jp-mod-styled"
            name="every"
            value={values.every}
            placeholder="1h"
            onChange={event => set({ every: event.target.value })}
          />
          <span className="jp-nbsched-form-hint">{trans.__('e.g. 10s, 5m, 1h30m, 1 day, 1w')}</span>
        </label>
      )}
      {values.kind === 'cron' && (
        <label className="jp-nbsched-form-row">
          <span className="jp-nbsched-form-label">{trans.__('Cron')}</span>
          <input
            className="jp-mod-styled"
            name="cron"
            value={values.cron}
            placeholder="0 9 * * 1-5"
            onChange={event => set({ cron: event.target.value })}
          />
          <span className="jp-nbsched-form-hint">
            {trans.__('minute hour day month weekday:')} <code>0 9 * * 1-5</code>{' '}
            {trans.__('is weekdays at 09:00')}
          </span>
        </label>
      )}
      {values.kind === 'at' && (
        <label className="jp-nbsched-form-row">
          <span className="jp-nbsched-form-label">{trans.__('Once at')}</span>
          <input
            className="jp-mod-styled"
            type="datetime-local"
            name="at"
            value={values.at}
            onChange={event => set({ at: event.target.value })}
          />
        </label>
      )}
      <label className="jp-nbsched-form-row">
        <span className="jp-nbsched-form-label">{trans.__('Time zone')}</span>
        <input
          className="jp-mod-styled"
          name="timezone"
          list="jp-nbsched-timezones"
          value={values.timezone}
          placeholder={trans.__("the server's")}
          onChange={event => set({ timezone: event.target.value })}
        />
        <datalist id="jp-nbsched-timezones">
          {props.timezones.map(zone => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      </label>
      <label className="jp-nbsched-form-row jp-nbsched-form-check">
        <input
          type="checkbox"
          name="runNow"
          checked={values.runNow}
          onChange={event => set({ runNow: event.target.checked })}
        />
        {trans.__('Also run it once now')}
      </label>
      <div className="jp-nbsched-form-section">{trans.__('Parameters')}</div>
      <Parameters info={info} infoError={props.infoError} values={values} trans={trans} onChange={setParameter} />
      <details className="jp-nbsched-form-advanced">
        <summary>{trans.__('Kernel and timeout')}</summary>
        <label className="jp-nbsched-form-row">
          <span className="jp-nbsched-form-label">{trans.__('Kernel')}</span>
          <input
            className="jp-mod-styled"
            name="kernelName"
            value={values.kernelName}
            placeholder={info?.kernel_name ?? trans.__("the notebook's")}
            onChange={event => set({ kernelName: event.target.value })}
          />
        </label>
        <label className="jp-nbsched-form-row">
          <span className="jp-nbsched-form-label">{trans.__('Timeout (s)')}</span>
          <input
            className="jp-mod-styled"
            name="timeout"
            inputMode="numeric"
            value={values.timeout}
            placeholder={trans.__('no limit')}
            onChange={event => set({ timeout: event.target.value })}
          />
        </label>
      </details>
    </div>
  );
}

function Parameters(props: {
  info: NotebookParametersOut | null;
  infoError?: string;
  values: ScheduleFormValues;
  trans: TranslationBundle;
  onChange: (name: string, value: string | boolean) => void;
}): React.ReactElement {
  const { info, trans } = props;
  if (!info) {
    return (
      <div className="jp-nbsched-form-note">
        {props.infoError
          ? trans.__("The notebook's parameters could not be read: %1.", props.infoError)
          : trans.__("The notebook's parameters could not be read.")}
      </div>
    );
  }
  if (!info.has_parameters_cell) {
    return (
      <div className="jp-nbsched-form-note">
        {trans.__('This notebook has no cell tagged')} <code>parameters</code>
        {trans.__(': it runs as it is.')}
      </div>
    );
  }
  if (!info.parameters.length) {
    return <div className="jp-nbsched-form-note">{trans.__('The parameters cell assigns no names.')}</div>;
  }
  return (
    <div className="jp-nbsched-form-parameters">
      {info.parameters.map(parameter => (
        <ParameterField
          key={parameter.name}
          parameter={parameter}
          value={props.values.parameters[parameter.name] ?? ''}
          trans={trans}
          onChange={value => props.onChange(parameter.name, value)}
        />
      ))}
    </div>
  );
}

function ParameterField(props: {
  parameter: ParameterOut;
  value: string | boolean;
  trans: TranslationBundle;
  onChange: (value: string | boolean) => void;
}): React.ReactElement {
  const { parameter, value } = props;
  const hint = parameter.annotation ?? (parameter.literal ? parameter.type : props.trans.__('computed')) ?? '';
  return (
    <label className="jp-nbsched-form-row jp-nbsched-form-parameter" title={`${parameter.name} = ${parameter.expression}`}>
      <code className="jp-nbsched-form-label">{parameter.name}</code>
      {typeof value === 'boolean' ? (
        <input
          type="checkbox"
          name={`parameter-${parameter.name}`}
          checked={value}
          onChange={event => props.onChange(event.target.checked)}
        />
      ) : (
        <input
          className="jp-mod-styled"
          name={`parameter-${parameter.name}`}
          value={value}
          placeholder={parameter.literal ? '' : parameter.expression}
          onChange={event => props.onChange(event.target.value)}
        />
      )}
      <span className="jp-nbsched-form-hint">{hint}</span>
    </label>
  );
}
