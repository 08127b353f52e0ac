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
const SEEN_KEY = 'cell-monitor:messages-seen';
const POLL_MS = 5000;
const HAND_UP_POLL_MS = 1000; // the instructor's answer shows within a second of arriving
const SEEN_KEPT = 100;

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
      this.state.set(status.help, status.help_claimed_by);
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

function seenMessages(): string[] {
  try {
    const seen = JSON.parse(window.localStorage.getItem(SEEN_KEY) ?? '[]');
    return Array.isArray(seen) ? seen : [];
  } catch {
    return [];
  }
}

/** Each instructor message once, as a notification that stays until dismissed. */
function showNewMessages(status: IMonitorStatus): void {
  const seen = seenMessages();
  const fresh = status.messages.filter(m => !seen.includes(m.id));
  for (const message of fresh) {
    const to = message.to_class ? 'to the class' : 'to you';
    Notification.info(`${message.from} (${to}): ${message.text}`, {
      autoClose: false,
      actions: [{ label: 'OK', callback: () => undefined }]
    });
  }
  if (fresh.length > 0) {
    const kept = [...seen, ...fresh.map(m => m.id)].slice(-SEEN_KEPT);
    window.localStorage.setItem(SEEN_KEY, JSON.stringify(kept));
  }
}

/** Tell the student when someone claims their request, and when it was resolved. */
function announceHand(state: HandState, status: IMonitorStatus): void {
  const coming = status.help ? status.help_claimed_by : null;
  if (coming && coming !== state.claimedBy) {
    Notification.info(`${coming} is on the way`, { autoClose: 10000 });
  } else if (state.on && !status.help && state.claimedBy) {
    Notification.success(`${state.claimedBy} marked your request as resolved`, {
      autoClose: 10000
    });
  }
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
        announceHand(state, status);
        state.set(status.help, status.help_claimed_by);
        showNewMessages(status);
        if (first) {
          showNoticeOnce(status);
          first = false;
        }
      } catch (error) {
        item.show_(null, 'server extension not answering');
      }
      // Quicker while the hand is up: "on the way" should show as soon as it arrives.
      window.setTimeout(() => void poll(), state.on ? HAND_UP_POLL_MS : POLL_MS);
    };
    void poll();
  }
};

export default plugin;
