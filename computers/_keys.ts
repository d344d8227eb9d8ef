// OpenAI computer-use key names → the DevTools key names puppeteer presses.

/** Key names as the model sends them (upper-cased) and their DevTools names. */
const KEYS: Readonly<Record<string, string>> = {
  ENTER: "Enter",
  RETURN: "Enter",
  TAB: "Tab",
  SPACE: "Space",
  BACKSPACE: "Backspace",
  DELETE: "Delete",
  DEL: "Delete",
  ESC: "Escape",
  ESCAPE: "Escape",
  CTRL: "Control",
  CONTROL: "Control",
  ALT: "Alt",
  OPTION: "Alt",
  SHIFT: "Shift",
  CMD: "Meta",
  COMMAND: "Meta",
  META: "Meta",
  SUPER: "Meta",
  WIN: "Meta",
  UP: "ArrowUp",
  ARROWUP: "ArrowUp",
  DOWN: "ArrowDown",
  ARROWDOWN: "ArrowDown",
  LEFT: "ArrowLeft",
  ARROWLEFT: "ArrowLeft",
  RIGHT: "ArrowRight",
  ARROWRIGHT: "ArrowRight",
  HOME: "Home",
  END: "End",
  PAGEUP: "PageUp",
  PAGE_UP: "PageUp",
  PAGEDOWN: "PageDown",
  PAGE_DOWN: "PageDown",
  INSERT: "Insert",
  CAPSLOCK: "CapsLock",
};

/**
 * The DevTools name of a key the model named: the table above, `F1`…`F12`, single characters
 * as they are, anything else unchanged (DevTools names such as `ArrowUp` pass through).
 *
 * @param key The model's key name.
 * @returns The DevTools key name.
 */
export function devtoolsKey(key: string): string {
  const upper = key.toUpperCase();
  if (upper in KEYS) return KEYS[upper];
  if (/^F([1-9]|1[0-2])$/.test(upper)) return upper;
  return key;
}
