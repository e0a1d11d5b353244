/**
 * The names `schema/plugin.json` refers to (its context-menu command, its toolbar item) and the plugin id
 * it belongs to, in a module of their own so that `test/settings.spec.ts` checks them against the schema
 * without loading JupyterLab.
 */

/** The plugin's id: its settings schema is `schema/plugin.json`. */
export const PLUGIN_ID = 'nbsched-labextension:plugin';

/** The extension's command ids. */
export const CommandIDs = {
  openPanel: 'nbsched:open-panel',
  scheduleNotebook: 'nbsched:schedule-notebook',
  scheduleSelected: 'nbsched:schedule-selected'
} as const;

/** The name of the notebook toolbar's "Schedule" item in `jupyter.lab.toolbars`. */
export const TOOLBAR_ITEM = 'nbsched-schedule';
