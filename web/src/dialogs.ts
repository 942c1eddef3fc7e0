// Modal questions (a name, a yes/no) in a <dialog>, so that the page needs
// neither window.prompt nor markup built from strings.

import { h } from './dom';

function modal(title: string, body: HTMLElement[], okLabel: string, danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', id: 'dialog-ok', text: okLabel });
    const cancel = h('button', { type: 'button', class: 'quiet', id: 'dialog-cancel', text: 'Cancel' });
    const dialog = h(
      'dialog',
      { class: 'modal' },
      h('h2', { text: title }),
      ...body,
      h('div', { class: 'buttons' }, cancel, ok),
    );
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => close(true));
    cancel.addEventListener('click', () => close(false));
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Asks for a name; null if cancelled or left empty. */
export async function askName(title: string, initial: string, okLabel: string): Promise<string | null> {
  const input = h('input', { type: 'text', id: 'dialog-name', value: initial, 'aria-label': 'Name', autocomplete: 'off', spellcheck: 'false' });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') (input.closest('dialog')?.querySelector('#dialog-ok') as HTMLButtonElement | null)?.click();
  });
  const answered = modal(title, [input], okLabel);
  // Select the name without its extension, as file managers do.
  const dot = initial.lastIndexOf('.');
  input.setSelectionRange(0, dot > 0 ? dot : initial.length);
  input.focus();
  const yes = await answered;
  const name = input.value.trim();
  return yes && name ? name : null;
}

export function confirm(title: string, text: string, okLabel: string): Promise<boolean> {
  return modal(title, [h('p', { text })], okLabel, true);
}
