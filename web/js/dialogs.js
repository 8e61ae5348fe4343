// Small promise-based dialogs on <dialog> (Escape closes them natively).
import { $, setText } from './dom.js';

function run(dialog, input, errorEl, validate) {
  return new Promise((resolve) => {
    const form = dialog.querySelector('form');
    setText(errorEl, '');
    const done = (value) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      cancel.removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const problem = validate ? validate(input.value) : '';
      if (problem) { setText(errorEl, problem); input.focus(); return; }
      done(input.value);
    };
    const onClose = () => done(null);
    const onCancel = () => done(null);
    const cancel = form.querySelector('[data-close]');
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    cancel.addEventListener('click', onCancel);
    dialog.showModal();
    input.focus();
    input.select();
  });
}

export function askName(current = '') {
  const input = $('#name-dialog-input');
  input.value = current;
  return run($('#name-dialog'), input, $('#name-dialog-error'),
    (v) => (v.trim() ? '' : 'Please enter a name.'));
}

export function askPassword(title, text, allowEmpty = false) {
  setText($('#password-dialog-title'), title);
  setText($('#password-dialog-text'), text);
  const input = $('#password-dialog-input');
  input.value = '';
  return run($('#password-dialog'), input, $('#password-dialog-error'),
    (v) => (v || allowEmpty ? '' : 'Please enter the password.'));
}
