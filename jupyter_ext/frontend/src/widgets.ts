// The raise-hand toolbar button and the status bar item.
import { Widget } from '@lumino/widgets';

import { IMonitorStatus } from './api';

/** Shared hand state: every notebook's button shows the same hand. */
export class HandState {
  on = false;
  claimedBy: string | null = null; // the instructor on the way
  private listeners = new Set<() => void>();

  set(on: boolean, claimedBy: string | null = null): void {
    this.on = on;
    this.claimedBy = on ? claimedBy : null;
    this.listeners.forEach(listener => listener());
  }

  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A toolbar toggle: "Raise hand", pressed again "Lower hand" withdraws the request. */
export class HandButton extends Widget {
  private button: HTMLButtonElement;
  private unlisten: () => void;

  constructor(
    private state: HandState,
    private toggle: (on: boolean) => Promise<void>
  ) {
    super();
    this.addClass('jp-CellMonitor-hand');
    this.addClass('jp-ToolbarButton');
    this.button = document.createElement('button');
    this.button.className = 'jp-ToolbarButtonComponent jp-mod-minimal jp-Button';
    this.button.onclick = () => void this.toggle(!this.state.on);
    this.node.appendChild(this.button);
    this.unlisten = state.listen(() => this.render());
    this.render();
  }

  dispose(): void {
    this.unlisten();
    super.dispose();
  }

  private render(): void {
    const on = this.state.on;
    const coming = this.state.claimedBy;
    this.button.textContent = !on
      ? '✋ Raise hand'
      : coming
        ? `✋ ${coming} is on the way · Lower hand`
        : '✋ Lower hand';
    this.button.title = !on
      ? 'Ask your instructor for help'
      : coming
        ? `${coming} is coming to help you. Click to withdraw your request.`
        : 'Your instructor sees that you asked for help. Click to withdraw.';
    this.button.setAttribute('aria-pressed', String(on));
    this.toggleClass('jp-mod-active', on);
  }
}

/** Status bar text: monitoring on/off, connected (or why not), events waiting. */
export class StatusItem extends Widget {
  constructor() {
    super();
    this.addClass('jp-CellMonitor-status');
    this.node.textContent = 'Cell Monitor: …';
  }

  show_(status: IMonitorStatus | null, error?: string): void {
    let text: string;
    if (status === null) {
      text = `Cell Monitor: ${error ?? 'unavailable'}`;
    } else if (!status.monitoring) {
      text = 'Cell Monitor: off';
    } else {
      // The server extension says why events wait ("server URL looks wrong: 404").
      const link =
        status.cause ??
        (status.connected === null
          ? 'starting'
          : status.connected
            ? 'connected'
            : 'offline');
      text = `Cell Monitor: on · ${link} · ${status.waiting} waiting`;
      if (status.dropped > 0) {
        text += ` · ${status.dropped} dropped`;
      }
      if (status.refused > 0) {
        text += ` · ${status.refused} refused`;
      }
    }
    const bad =
      status === null ||
      status.unauthorized ||
      Boolean(status.cause) ||
      status.dropped > 0;
    this.node.textContent = text;
    this.node.title = StatusItem.tooltip(status);
    this.toggleClass('jp-mod-error', bad);
  }

  private static tooltip(status: IMonitorStatus | null): string {
    if (status?.last_error === null || status?.last_error === undefined) {
      return 'Cell runs are sent to your class';
    }
    const next = status.retry_in_s;
    return next === null
      ? status.last_error
      : `${status.last_error} (next try in ${Math.ceil(next)} s)`;
  }
}
