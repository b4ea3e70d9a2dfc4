/**
 * A new version of the app, as the service worker (src/offline/serviceWorker.js)
 * finds it: it installs beside the running one and waits; this says so in every
 * open tab, and when the person reloads, the run is saved first, the new version
 * takes over, and every tab reloads into it (each saving its run first too).
 */
export class AppUpdate {
  /** A new version is installed and waiting for the tabs to move to it. */
  available = $state(false);
  #registration: ServiceWorkerRegistration | null = null;
  #reloading = false;

  constructor(private readonly beforeReload: () => Promise<void>) {}

  /** Registers the service worker (built pages only) and watches for new versions. */
  register(): void {
    if (!('serviceWorker' in navigator)) return;
    const sw = navigator.serviceWorker;
    // A page the service worker did not control (the first visit) has nothing to move from.
    const controlled = sw.controller !== null;
    sw.addEventListener('controllerchange', () => {
      if (controlled) void this.#reload();
    });
    sw.register('./sw.js').then(
      (registration: ServiceWorkerRegistration | undefined) => {
        if (!registration) return; // a browser that blocks service workers (automation, some private modes) registers none
        this.#registration = registration;
        const watch = (worker: ServiceWorker | null) =>
          worker?.addEventListener('statechange', () => {
            if (worker.state === 'installed' && sw.controller) this.available = true;
          });
        if (registration.waiting && sw.controller) this.available = true;
        watch(registration.installing);
        registration.addEventListener('updatefound', () => watch(registration.installing));
      },
      (e: unknown) => console.warn(`offline copy unavailable: ${String(e)}`),
    );
  }

  /** Saves the run, then asks the waiting version to take over; the controller change reloads every tab. */
  async apply(): Promise<void> {
    await this.beforeReload();
    const waiting = this.#registration?.waiting;
    if (waiting) waiting.postMessage('skip-waiting');
    else location.reload();
  }

  async #reload(): Promise<void> {
    if (this.#reloading) return;
    this.#reloading = true;
    await this.beforeReload();
    location.reload();
  }
}
