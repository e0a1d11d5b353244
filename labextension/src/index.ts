/**
 * nbsched's JupyterLab extension: the "Scheduled jobs" side panel and the "Schedule this notebook"
 * command (notebook toolbar, file browser context menu, command palette).
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog,
  showErrorMessage,
  ToolbarButton
} from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, type INotebookModel, type NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { NbschedApiError, NbschedClient, type JobOut, type NotebookParametersOut } from './api';
import { ScheduleForm } from './form';
import { SchedulerPanel } from './panel';
import { buildRequest, FormError, initialValues, knownTimezones } from './schedule';

/** The extension's command ids. */
export const CommandIDs = {
  openPanel: 'nbsched:open-panel',
  scheduleNotebook: 'nbsched:schedule-notebook',
  scheduleSelected: 'nbsched:schedule-selected'
} as const;

const clockSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16z"/>
    <path d="M12.5 7H11v6l5.25 3.15.75-1.23-4.5-2.67z"/>
  </g>
</svg>`;

/** The extension's icon (a clock). */
export const clockIcon = new LabIcon({ name: 'nbsched:clock', svgstr: clockSvg });

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbsched-labextension:plugin',
  description: 'A side panel of scheduled jobs and a "Schedule this notebook" command for nbsched.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, IDefaultFileBrowser, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const client = new NbschedClient({ serverSettings: app.serviceManager.serverSettings });
    const panel = new SchedulerPanel(client);
    panel.id = 'nbsched-panel';
    panel.title.icon = clockIcon;
    panel.title.caption = 'Scheduled jobs';
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'nbsched-panel');

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
        const body = new ScheduleForm({ path, info, infoError, values, error, timezones });
        const result = await showDialog({
          title: 'Schedule this notebook',
          body,
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Schedule' })],
          focusNodeSelector: 'input[name="name"]'
        });
        if (!result.button.accept || !result.value) {
          return null;
        }
        values = result.value;
        try {
          const request = buildRequest(path, values, info);
          let job = await client.createJob(request.body);
          if (request.runNow) {
            job = await client.runJob(job.id);
          }
          app.shell.activateById(panel.id);
          panel.select(job.id);
          Notification.success(`Scheduled "${job.name}": ${job.trigger_description}`, { autoClose: 5000 });
          return job;
        } catch (reason) {
          if (reason instanceof FormError || (reason instanceof NbschedApiError && reason.status === 400)) {
            error = reason.message; // show the form again, with what the user typed and what is wrong
            continue;
          }
          await showErrorMessage('Could not schedule the notebook', reason instanceof Error ? reason.message : String(reason));
          return null;
        }
      }
    };

    const currentPath = (): string | null => {
      const widget = tracker.currentWidget;
      return widget ? localPath(widget.context.path) : null;
    };

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'Scheduled Jobs',
      caption: 'Show the jobs nbsched runs on this server',
      icon: clockIcon,
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });

    app.commands.addCommand(CommandIDs.scheduleNotebook, {
      label: 'Schedule This Notebook…',
      caption: 'Run this notebook on a schedule (cron, interval or once) with nbsched',
      icon: clockIcon,
      isEnabled: args => typeof args.path === 'string' || currentPath() !== null,
      execute: args => {
        const path = typeof args.path === 'string' ? localPath(args.path) : currentPath();
        return path ? schedule(path) : null;
      }
    });

    app.commands.addCommand(CommandIDs.scheduleSelected, {
      label: 'Schedule Notebook…',
      caption: 'Run the selected notebook on a schedule with nbsched',
      icon: clockIcon,
      isVisible: () => selectedNotebook(fileBrowser) !== null,
      execute: () => {
        const path = selectedNotebook(fileBrowser);
        return path ? schedule(localPath(path)) : null;
      }
    });

    app.contextMenu.addItem({
      command: CommandIDs.scheduleSelected,
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 3
    });

    if (palette) {
      palette.addItem({ command: CommandIDs.scheduleNotebook, category: 'Scheduler' });
      palette.addItem({ command: CommandIDs.openPanel, category: 'Scheduler' });
    }

    app.docRegistry.addWidgetExtension('Notebook', new ScheduleButtonExtension(app));
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

/** Adds "Schedule" to every notebook's toolbar. */
class ScheduleButtonExtension implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(private readonly _app: JupyterFrontEnd) {}

  createNew(panel: NotebookPanel, context: DocumentRegistry.IContext<INotebookModel>): ToolbarButton {
    const button = new ToolbarButton({
      className: 'jp-nbsched-schedule-button',
      icon: clockIcon,
      label: 'Schedule',
      tooltip: 'Schedule this notebook (nbsched)',
      onClick: () => {
        void this._app.commands.execute(CommandIDs.scheduleNotebook, { path: context.path });
      }
    });
    panel.toolbar.insertItem(10, 'nbsched-schedule', button);
    return button;
  }
}

export default plugin;
