import './ui/earlyWorker.ts'; // first: the trainer worker loads while the rest evaluates
import { mount } from 'svelte';
import App from './ui/App.svelte';
import './ui/app.css';

mount(App, { target: document.getElementById('app')! });

