// Cell Monitor for students: raise-hand button, status bar item, a one-time notice and, where
// the class asks, the research consent question.
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { fetchStatus, IMonitorStatus, setConsent, setHand } from './api';
import { HandButton, HandState, StatusItem } from './widgets';

const NOTICE_KEY = 'cell-monitor:notice-seen';
const SEEN_KEY = 'cell-monitor:messages-seen';
const POLL_MS = 5000;
const HAND_UP_POLL_MS = 1000; // the instructor's answer shows within a second of arriving
const SEEN_KEPT = 100;
const CONSENT_COMMAND = 'cell-monitor:research-consent';

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

/** The question, in three short paragraphs: what is collected, who sees it, what to answer. */
function consentBody(status: IMonitorStatus): Widget {
  const code =
    status.code_capture === 'off' ? 'errors and run time, not your code' : 'code, errors, run time';
  const node = document.createElement('div');
  node.className = 'jp-CellMonitor-consent';
  for (const text of [
    `Your instructor sees your cell runs (${code}), the notebooks you open and save, ` +
      'and your help requests, to help you in class. That is so whatever you answer here.',
    'Researchers studying how students learn to program would also like to use this data: ' +
      'under a code name, never with your name or id, and never shown to your classmates.',
    'Do you agree to research use of your data? Saying no changes nothing for you in class. ' +
      'You can change your answer any time: Command Palette, "Cell Monitor: research consent".'
  ]) {
    const paragraph = document.createElement('p');
    paragraph.textContent = text;
    node.appendChild(paragraph);
  }
  return new Widget({ node });
}

/** Ask the research consent question; the answer is logged and can be changed any time. */
async function askConsent(status: IMonitorStatus): Promise<IMonitorStatus> {
  const result = await showDialog({
    title: 'Research consent for this class',
    body: consentBody(status),
    buttons: [
      Dialog.cancelButton({ label: 'No, thanks' }),
      Dialog.okButton({ label: 'I agree' })
    ],
    defaultButton: 0 // Enter is not a yes: agreeing takes a deliberate click
  });
  // Closing the dialog without a choice counts as no: nothing is shared without a yes.
  const agreed = result.button.accept;
  const answered = await setConsent(agreed);
  Notification.info(
    agreed
      ? 'Thank you: your data may be used for research, under a code name.'
      : 'Noted: your data will not be used for research.',
    { autoClose: 6000 }
  );
  return answered;
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
  optional: [IStatusBar, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null
  ) => {
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
    let latest: IMonitorStatus | null = null;
    let asking = false;
    const ask = async () => {
      if (asking || latest === null) {
        return;
      }
      asking = true;
      try {
        latest = await askConsent(latest);
      } finally {
        asking = false;
      }
    };
    app.commands.addCommand(CONSENT_COMMAND, {
      label: 'Cell Monitor: research consent',
      isEnabled: () => latest !== null && latest.monitoring,
      execute: () => ask()
    });
    if (palette) {
      palette.addItem({ command: CONSENT_COMMAND, category: 'Cell Monitor' });
    }
    let first = true;
    const poll = async () => {
      try {
        const status = await fetchStatus();
        item.show_(status);
        announceHand(state, status);
        state.set(status.help, status.help_claimed_by);
        showNewMessages(status);
        latest = status;
        if (first) {
          showNoticeOnce(status);
          first = false;
        }
        // The class asks and no answer is known (not even one on its way): ask, once.
        if (status.monitoring && status.consent.required && status.consent.research === null) {
          void ask();
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
