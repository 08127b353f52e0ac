// Calls to the Cell Monitor server extension, through ServerConnection for token and XSRF.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A message from an instructor, to this student or to the whole class. */
export interface IInstructorMessage {
  id: string;
  from: string;
  text: string;
  at: string;
  to_class: boolean;
}

/** The classroom's research consent question: asked or not, and this student's answer. */
export interface IConsent {
  required: boolean;
  research: boolean | null;
}

export interface IMonitorStatus {
  monitoring: boolean;
  connected: boolean | null;
  unauthorized: boolean;
  cause: string | null;
  retry_in_s: number | null;
  refused: number;
  waiting: number;
  dropped: number;
  last_error: string | null;
  help: boolean;
  help_claimed_by: string | null;
  messages: IInstructorMessage[];
  consent: IConsent;
  student_id: string;
  code_capture: string;
}

async function call(path: string, init: RequestInit = {}): Promise<IMonitorStatus> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'cell-monitor', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  if (!response.ok) {
    throw new ServerConnection.ResponseError(response);
  }
  return (await response.json()) as IMonitorStatus;
}

/** The monitoring status: on/off, connected, events waiting, dropped, last error. */
export function fetchStatus(): Promise<IMonitorStatus> {
  return call('status');
}

/** Raise (on) or lower (off) the student's hand. */
export function setHand(on: boolean, notebookPath?: string): Promise<IMonitorStatus> {
  return call('help', {
    method: 'POST',
    body: JSON.stringify({ on, notebook_path: notebookPath ?? null })
  });
}

/** Answer the research consent question (false declines, or withdraws an earlier yes). */
export function setConsent(research: boolean): Promise<IMonitorStatus> {
  return call('consent', {
    method: 'POST',
    body: JSON.stringify({ research })
  });
}
