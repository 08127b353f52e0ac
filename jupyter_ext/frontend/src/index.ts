// Cell Monitor for students: raise-hand button, status bar item and a one-time notice.
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { IDisposable } from '@lumino/disposable';

import { fetchStatus, IMonitorStatus, setHand } from './api';
import { HandButton, HandState, StatusItem } from './widgets';

const NOTICE_KEY = 'cell-monitor:notice-seen';
const POLL_MS = 5000;

// Toasts show 140 characters: keep the notice within that.
const NOTICE =
  'This session is monitored for your class: cell runs (code, errors, run ' +
  'time), notebooks opened/saved and help requests. Outputs aren\'t sent.';

class HandExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(private state: HandState) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new HandButton(this.state, async on => {
      const status = await setHand(on, panel.context.path);
      this.state.set(status.help);
    });
    panel.toolbar.insertItem(10, 'cellMonitorHand', button);
    return button;
  }
}

function showNoticeOnce(status: IMonitorStatus): void {
  if (!status.monitoring || window.localStorage.getItem(NOTICE_KEY)) {
    return;
  }
  window.localStorage.setItem(NOTICE_KEY, new Date().toISOString());
  Notification.info(NOTICE, {
    autoClose: false,
    actions: [{ label: 'Got it', callback: () => undefined }]
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'cell-monitor:plugin',
  description: 'Cell Monitor: raise hand, monitoring status and notice for students.',
  autoStart: true,
  optional: [IStatusBar],
  activate: (app: JupyterFrontEnd, statusBar: IStatusBar | null) => {
    const state = new HandState();
    app.docRegistry.addWidgetExtension('Notebook', new HandExtension(state));
    const item = new StatusItem();
    if (statusBar) {
      statusBar.registerStatusItem('cell-monitor:status', {
        item,
        align: 'left',
        rank: 5
      });
    }
    let first = true;
    const poll = async () => {
      try {
        const status = await fetchStatus();
        item.show_(status);
        state.set(status.help);
        if (first) {
          showNoticeOnce(status);
          first = false;
        }
      } catch (error) {
        item.show_(null, 'server extension not answering');
      }
    };
    void poll();
    window.setInterval(() => void poll(), POLL_MS);
  }
};

export default plugin;
