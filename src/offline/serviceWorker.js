// The service worker: after the first visit the playground opens and trains
// offline. The build fills in the list of files (every file of the build,
// models and wasm included) and a cache name that changes with them.
/* global self, caches, fetch, URL, Response */
const CACHE = '__CACHE_NAME__';
const FILES = __PRECACHE_FILES__;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('rlcf-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // The page: the network's newest when there is one, else the saved copy.
    event.respondWith(
      fetch(request).catch(() => caches.match('./index.html', { ignoreSearch: true, ignoreVary: true }).then((r) => r ?? new Response('Offline, and this page was never saved.', { status: 503 }))),
    );
    return;
  }
  // Everything else is named by content or versioned with the build: the saved copy first.
  event.respondWith(caches.match(request, { ignoreSearch: true, ignoreVary: true }).then((hit) => hit ?? fetch(request)));
});
