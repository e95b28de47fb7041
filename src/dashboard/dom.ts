// Small DOM helpers: escaping for HTML strings, and one delegated copy-button handler for the whole page.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

export function byId<T extends HTMLElement = HTMLElement>(root: ParentNode, testId: string): T {
  const element = root.querySelector<T>(`[data-testid="${testId}"]`);
  if (element === null) throw new Error(`missing element ${testId}`);
  return element;
}

/** A copy button that copies the text of the element with id `targetId`. */
export function copyButton(targetId: string, testId: string, label = 'Copy'): string {
  return `<button type="button" class="btn btn-small btn-copy" data-copy-from="${esc(targetId)}" data-testid="${esc(testId)}" aria-label="${esc(`${label} to clipboard`)}">${esc(label)}</button>`;
}

/** Installs the one click listener that serves every copy button on the page. */
export function installCopyHandler(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button[data-copy-from]');
    if (!button) return;
    const source = document.getElementById(button.dataset['copyFrom'] ?? '');
    if (!source) return;
    void copyText(source.textContent ?? '').then((copied) => flash(button, copied ? 'Copied' : 'Press Ctrl+C'));
    if (source instanceof HTMLElement) selectContents(source);
  });
}

async function copyText(text: string): Promise<boolean> {
  try {
    // The Clipboard API exists only in secure contexts; plain-HTTP deployments fall through to execCommand.
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

function selectContents(element: HTMLElement): void {
  const selection = window.getSelection();
  if (!selection) return;
  const range = document.createRange();
  range.selectNodeContents(element);
  selection.removeAllRanges();
  selection.addRange(range);
}

function flash(button: HTMLButtonElement, text: string): void {
  const original = button.dataset['label'] ?? button.textContent ?? 'Copy';
  button.dataset['label'] = original;
  button.textContent = text;
  button.classList.add('is-done');
  window.setTimeout(() => {
    button.textContent = original;
    button.classList.remove('is-done');
  }, 1500);
}

/** Offers `text` as a file download without a round trip to the server. */
export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
