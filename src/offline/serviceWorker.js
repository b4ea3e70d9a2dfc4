// The service worker: after the first visit the playground opens and trains
// offline. The build fills in the list of files (every file of the build,
// models and wasm included) and a cache name that is a hash of their content.
//
// Updates go as Workbox's precaching with a prompt does: a new version installs
// beside the old one and waits; the old one keeps serving every open tab from its
// own cache (so an old tab still loads its lazily loaded code), each tab says a new
// version is available, and the new one takes over when a tab asks (after saving
// its run), then every tab reloads into it. Nothing here needs Workbox itself: the
// list and the hash come from the build, and the rest is these 60 lines.
/* global self, caches, fetch, URL, Request, Response */
const CACHE = '__CACHE_NAME__';
const FILES = __PRECACHE_FILES__;

self.addEventListener('install', (event) => {
  // cache: 'reload' skips the HTTP cache, which may still hold the last version's model.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES.map((f) => new Request(f, { cache: 'reload' })))));
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  // The old versions' files go only now, when no tab runs them any more.
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
  // This version's own files only: a page must not mix its code with another version's model.
  const own = (key) => caches.open(CACHE).then((cache) => cache.match(key, { ignoreSearch: true, ignoreVary: true }));
  if (request.mode === 'navigate') {
    // The page of this version (a newer one waits until the tabs move to it), else the network's.
    event.respondWith(
      own('./index.html').then(
        (hit) => hit ?? fetch(request).catch(() => new Response('Offline, and this page was never saved.', { status: 503 })),
      ),
    );
    return;
  }
  event.respondWith(own(request).then((hit) => hit ?? fetch(request)));
});
