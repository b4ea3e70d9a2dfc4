import type { Component } from 'svelte';
import type { Task } from '../../core/tasks/index.ts';
import type { Session } from '../state/session.svelte.ts';
import CartPoleThumbnail from './CartPoleThumbnail.svelte';
import CartPoleView from './CartPoleView.svelte';
import ColourTarget from './ColourTarget.svelte';
import ImageSamples from './ImageSamples.svelte';
import ImageThumbnail from './ImageThumbnail.svelte';
import TextThumbnail from './TextThumbnail.svelte';

/**
 * Per-task views, registered by task id, for tasks whose samples are not text.
 * A task without an entry gets the text samples view. Adding a task's view
 * means adding it here, nothing else.
 */
export const SAMPLE_VIEWS: Readonly<Record<string, Component<{ session: Session }>>> = {
  images: ImageSamples,
  cartpole: CartPoleView,
};

/** Controls a task adds beside the reward editor (the painting task's colour picker). */
export const EDITOR_ASIDES: Readonly<Record<string, Component<{ session: Session }>>> = {
  images: ColourTarget,
};

/** The gallery card's picture, drawn as the task's view draws its samples; text by default. */
export const THUMBNAILS: Readonly<Record<string, Component<{ task: Task }>>> = {
  images: ImageThumbnail,
  cartpole: CartPoleThumbnail,
};
export const TEXT_THUMBNAIL: Component<{ task: Task }> = TextThumbnail;
