// The whole app in one file: it calls the Flask API two ways.
//  - directly at http://localhost:5000 (cross-origin: needs the API's CORS headers, and
//    breaks when another process answers on [::1]:5000, e.g. macOS AirPlay);
//  - through the dev-server proxy at /api (proxy.conf.json), which Node resolves itself.
import { ChangeDetectionStrategy, Component, signal } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';

const API = 'http://localhost:5000';

async function post(url: string): Promise<string> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: 'web' }),
    });
    return `${response.status} ${await response.text()}`;
  } catch (error) {
    return `failed: ${String(error)}`;
  }
}

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>devlint example stack</h1>
    <button type="button" (click)="callDirect()">POST {{ api }}/sample</button>
    <button type="button" (click)="callProxy()">POST /api/sample (proxy)</button>
    <pre id="outcome">{{ outcome() }}</pre>
  `,
})
class App {
  protected readonly api = API;
  protected readonly outcome = signal('not called yet');

  protected async callDirect(): Promise<void> {
    this.outcome.set(await post(`${API}/sample`));
  }

  protected async callProxy(): Promise<void> {
    this.outcome.set(await post('/api/sample'));
  }
}

bootstrapApplication(App).catch((error: unknown) => console.error(error));
