/**
 * nbsched's JupyterLab extension: the "Scheduled jobs" side panel and the "Schedule this notebook"
 * command (notebook toolbar, file browser context menu, command palette).
 *
 * It keeps JupyterLab's conventions: words go through `ITranslator` (domain `nbsched`); the settings,
 * the notebook toolbar's button (`jupyter.lab.toolbars`) and the file browser's context-menu item
 * (`jupyter.lab.menus`) are declared in `schema/plugin.json`, so that users can move, hide or change
 * them in the Settings Editor.
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  IToolbarWidgetRegistry,
  Notification,
  showDialog,
  showErrorMessage,
  ToolbarButton
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';

import { NbschedApiError, NbschedClient, type JobOut, type NotebookParametersOut } from './api';
import { ScheduleForm } from './form';
import { SchedulerPanel, showRunNowNotice } from './panel';
import { runNowNotice } from './presenter';
import { buildRequest, FormError, initialValues, knownTimezones } from './schedule';
import { CommandIDs, PLUGIN_ID, TOOLBAR_ITEM } from './ids';
import { refreshIntervals } from './settings';

export { CommandIDs, PLUGIN_ID, TOOLBAR_ITEM };

const clockSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16z"/>
    <path d="M12.5 7H11v6l5.25 3.15.75-1.23-4.5-2.67z"/>
  </g>
</svg>`;

/** The extension's icon (a clock). */
export const clockIcon = new LabIcon({ name: 'nbsched:clock', svgstr: clockSvg });

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A side panel of scheduled jobs and a "Schedule this notebook" command for nbsched.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ICommandPalette,
    IDefaultFileBrowser,
    ILayoutRestorer,
    ISettingRegistry,
    ITranslator,
    IToolbarWidgetRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    toolbarRegistry: IToolbarWidgetRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('nbsched');
    const client = new NbschedClient({ serverSettings: app.serviceManager.serverSettings });
    const panel = new SchedulerPanel(client, trans);
    panel.id = 'nbsched-panel';
    panel.title.icon = clockIcon;
    panel.title.caption = trans.__('Scheduled jobs');
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'nbsched-panel');

    if (settingRegistry) {
      // Applied now and on every change in the Settings Editor; without the registry, or when the
      // settings cannot be read, the panel keeps its defaults (the schema's).
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = (): void => {
            panel.refreshIntervals = refreshIntervals(settings.composite);
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch((reason: unknown) => {
          console.error(`nbsched: could not load the settings of ${PLUGIN_ID}`, reason);
        });
    }

    const localPath = (path: string): string => app.serviceManager.contents.localPath(path);

    /** Show the form until the job is created or the user gives up. */
    const schedule = async (path: string): Promise<JobOut | null> => {
      // The job runs the file on disk: save the open notebook first so that it runs what the user sees.
      const open = tracker.find(widget => localPath(widget.context.path) === path);
      if (open && open.context.model.dirty && !open.context.model.readOnly) {
        await open.context.save();
      }
      let info: NotebookParametersOut | null = null;
      let infoError: string | undefined;
      try {
        info = await client.notebookParameters(path);
      } catch (reason) {
        infoError = reason instanceof Error ? reason.message : String(reason);
      }
      let values = initialValues(path, info);
      let error: string | undefined;
      const timezones = knownTimezones();
      for (;;) {
        const body = new ScheduleForm({ path, info, infoError, values, error, timezones, trans });
        const result = await showDialog({
          title: trans.__('Schedule this notebook'),
          body,
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.okButton({ label: trans.__('Schedule') })
          ],
          focusNodeSelector: 'input[name="name"]'
        });
        if (!result.button.accept || !result.value) {
          return null;
        }
        values = result.value;
        try {
          const request = buildRequest(path, values, info, trans);
          let job = await client.createJob(request.body);
          if (request.runNow) {
            const reply = await client.runJob(job.id);
            showRunNowNotice(runNowNotice(reply));
            job = reply;
          }
          app.shell.activateById(panel.id);
          panel.select(job.id);
          Notification.success(trans.__('Scheduled "%1": %2', job.name, job.trigger_description), {
            autoClose: 5000
          });
          return job;
        } catch (reason) {
          if (reason instanceof FormError || (reason instanceof NbschedApiError && reason.status === 400)) {
            error = reason.message; // show the form again, with what the user typed and what is wrong
            continue;
          }
          await showErrorMessage(
            trans.__('Could not schedule the notebook'),
            reason instanceof Error ? reason.message : String(reason)
          );
          return null;
        }
      }
    };

    const currentPath = (): string | null => {
      const widget = tracker.currentWidget;
      return widget ? localPath(widget.context.path) : null;
    };

    app.commands.addCommand(CommandIDs.openPanel, {
      label: trans.__('Scheduled Jobs'),
      caption: trans.__('Show the jobs nbsched runs on this server'),
      icon: clockIcon,
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });

    app.commands.addCommand(CommandIDs.scheduleNotebook, {
      label: trans.__('Schedule This Notebook…'),
      caption: trans.__('Run this notebook on a schedule (cron, interval or once) with nbsched'),
      icon: clockIcon,
      isEnabled: args => typeof args.path === 'string' || currentPath() !== null,
      execute: args => {
        const path = typeof args.path === 'string' ? localPath(args.path) : currentPath();
        return path ? schedule(path) : null;
      }
    });

    app.commands.addCommand(CommandIDs.scheduleSelected, {
      label: trans.__('Schedule Notebook…'),
      caption: trans.__('Run the selected notebook on a schedule with nbsched'),
      icon: clockIcon,
      isVisible: () => selectedNotebook(fileBrowser) !== null,
      execute: () => {
        const path = selectedNotebook(fileBrowser);
        return path ? schedule(localPath(path)) : null;
      }
    });

    // The file browser's context-menu item is declared in schema/plugin.json (`jupyter.lab.menus`).

    if (palette) {
      const category = trans.__('Scheduler');
      palette.addItem({ command: CommandIDs.scheduleNotebook, category });
      palette.addItem({ command: CommandIDs.openPanel, category });
    }

    // The notebook toolbar's item is declared in schema/plugin.json (`jupyter.lab.toolbars`: its place,
    // and whether it shows, are settings of the notebook toolbar); this makes its widget.
    toolbarRegistry?.addFactory<NotebookPanel>('Notebook', TOOLBAR_ITEM, notebook => {
      return new ToolbarButton({
        className: 'jp-nbsched-schedule-button',
        icon: clockIcon,
        label: trans.__('Schedule'),
        tooltip: trans.__('Schedule this notebook (nbsched)'),
        onClick: () => {
          void app.commands.execute(CommandIDs.scheduleNotebook, { path: notebook.context.path });
        }
      });
    });
  }
};

/** The notebook selected in the file browser, or `null`. */
function selectedNotebook(fileBrowser: IDefaultFileBrowser | null): string | null {
  if (!fileBrowser) {
    return null;
  }
  for (const item of fileBrowser.selectedItems()) {
    if (item.type === 'notebook') {
      return item.path;
    }
  }
  return null;
}

export default plugin;
