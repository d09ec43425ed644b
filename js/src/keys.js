// Every control of the F0 editor, in one table: the key handler dispatches from it and the help
// overlay (and the README) list it.

/** Mouse controls: [gesture, what it does]. */
export const MOUSE_CONTROLS = [
  ["Left-drag", "draw the F0 (corrected frames turn yellow)"],
  ["Right-drag", "delete the F0 (nobody sings there)"],
  ["Shift + left-drag", "select a region (for the keys below)"],
  ["Wheel", "zoom time around the pointer"],
  ["Ctrl + wheel", "zoom pitch around the pointer"],
  ["Middle-drag or Alt + left-drag", "pan"],
  ["Click on the time axis", "move the playhead there"],
];

/**
 * Keyboard controls: {keys (as shown), match(event) -> bool, command, description}. Commands are the
 * editor's method names; a command that needs a region uses the current selection.
 */
export const KEY_CONTROLS = [
  { keys: "Ctrl + Z", command: "undo", description: "undo", match: (e) => ctrl(e) && !e.shiftKey && lower(e) === "z" },
  {
    keys: "Ctrl + Shift + Z / Ctrl + Y",
    command: "redo",
    description: "redo",
    match: (e) => ctrl(e) && ((e.shiftKey && lower(e) === "z") || lower(e) === "y"),
  },
  { keys: "PageUp / ]", command: "octaveUp", description: "selection an octave up", match: (e) => plain(e) && ["PageUp", "]"].includes(e.key) },
  { keys: "PageDown / [", command: "octaveDown", description: "selection an octave down", match: (e) => plain(e) && ["PageDown", "["].includes(e.key) },
  { keys: "S", command: "snap", description: "snap the selection to the saliency ridge", match: (e) => plain(e) && lower(e) === "s" },
  { keys: "Delete / Backspace", command: "unvoice", description: "delete the F0 in the selection", match: (e) => plain(e) && ["Delete", "Backspace"].includes(e.key) },
  { keys: "V", command: "markVocal", description: "mark the selection as sung", match: (e) => plain(e) && lower(e) === "v" },
  { keys: "N", command: "markSilent", description: "mark the selection as silent (no voice)", match: (e) => plain(e) && lower(e) === "n" },
  { keys: "Escape", command: "clearSelection", description: "clear the selection, close help", match: (e) => e.key === "Escape" },
  { keys: "+ / -", command: "zoomKey", description: "zoom time in / out", match: (e) => plain(e) && ["+", "=", "-"].includes(e.key) },
  { keys: "← / →", command: "panKey", description: "pan in time", match: (e) => plain(e) && ["ArrowLeft", "ArrowRight"].includes(e.key) },
  { keys: "↑ / ↓", command: "panKey", description: "pan in pitch", match: (e) => plain(e) && ["ArrowUp", "ArrowDown"].includes(e.key) },
  { keys: "0", command: "resetView", description: "show the whole song", match: (e) => plain(e) && e.key === "0" },
  { keys: "Space", command: "togglePlay", description: "play / pause (playhead follows)", match: (e) => plain(e) && e.key === " " },
  { keys: "H", command: "toggleSalience", description: "saliency shading on / off", match: (e) => plain(e) && lower(e) === "h" },
  { keys: "?", command: "toggleHelp", description: "this help", match: (e) => e.key === "?" },
];

function ctrl(event) {
  return event.ctrlKey || event.metaKey;
}

function plain(event) {
  return !event.ctrlKey && !event.metaKey && !event.altKey;
}

function lower(event) {
  return event.key.length === 1 ? event.key.toLowerCase() : event.key;
}

/** The control a keydown event asks for, or null. */
export function keyCommand(event) {
  return KEY_CONTROLS.find((control) => control.match(event)) ?? null;
}

/**
 * Keys the notebook keeps even while the editor has the keyboard: Ctrl / Cmd / Alt combinations the
 * editor does not use (Ctrl+S saves the notebook), Enter with a modifier (Shift+Enter runs the cell),
 * Tab and the function keys.
 */
export function notebookKeeps(event) {
  if (event.key === "Enter") return event.shiftKey || event.altKey || ctrl(event);
  if (event.key === "Tab" || /^F\d{1,2}$/.test(event.key)) return true;
  return (ctrl(event) || event.altKey) && keyCommand(event) === null;
}

/**
 * Who handles a keydown, given where the keyboard and the pointer are.
 *
 * - "editor": the editor's command runs and the notebook never sees the key;
 * - "notebook": the key goes on to JupyterLab / Notebook 7 untouched (its save, run and command-mode
 *   shortcuts keep working);
 * - "none": nobody acts on it (a plain key the editor does not use, kept from the notebook's
 *   single-key command-mode shortcuts, which would otherwise insert or delete cells while the
 *   editor has the keyboard).
 *
 * @param {KeyboardEvent} event
 * @param {{focused: boolean, hovered: boolean, typing: boolean, escapable: boolean}} state the
 *   editor has the keyboard focus; the pointer is over it; the focus is in a text field (a code
 *   cell, an input), where every key belongs to that field; Escape has a selection or the help to close.
 */
export function keyRoute(event, state) {
  if (state.typing) return "notebook";
  const control = keyCommand(event);
  const usable = control !== null && (control.command !== "clearSelection" || state.escapable);
  if (!state.focused) return usable && state.hovered ? "editor" : "notebook";
  if (usable) return "editor";
  return control !== null || notebookKeeps(event) ? "notebook" : "none";
}
