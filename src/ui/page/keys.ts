/**
 * Whether a key press may act as a page shortcut: no modifier, not held down,
 * not taken already, and not typed into the editor, a field or a dialog (those
 * keys are theirs).
 */
export function isShortcutKey(e: KeyboardEvent): boolean {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return false;
  const el = e.target instanceof Element ? e.target : null;
  return el === null || el.closest('input, textarea, select, [contenteditable="true"], .cm-editor, dialog') === null;
}
