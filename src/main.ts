import './ui/earlyWorker.ts'; // first: the trainer worker loads while the rest evaluates
import { mount } from 'svelte';
import App from './ui/App.svelte';
import './ui/app.css';

mount(App, { target: document.getElementById('app')! });

// The built app saves itself for offline use (see src/offline/serviceWorker.js).
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  addEventListener('load', () => {
    navigator.serviceWorker.register('./sw.js').catch((e: unknown) => console.warn(`offline copy unavailable: ${String(e)}`));
  });
}
