import { cloneElement, useId, useState, type FormEvent, type ReactElement } from 'react';
import type { HostView } from '@qnet/contracts';
import { ApiError } from '../api';

/**
 * A form's values as strings: `on(key)` is the change handler of that key's input or select,
 * `reset()` gives back the initial values.
 */
export function useValues<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState(initial);
  const on = (k: keyof T) => (e: { target: { value: string } }) =>
    setValues((cur) => ({ ...cur, [k]: e.target.value }));
  return { values, on, reset: () => setValues(initial) };
}

/**
 * A form whose submit calls the API: while it runs the button waits; a refusal shows its message
 * on top and each `details` entry next to the field it names (`fieldError`).
 */
export function useApiForm<T>(submit: () => Promise<T>, done: (result: T) => void) {
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      done(await submit());
    } catch (err) {
      setError(
        err instanceof ApiError
          ? err
          : new ApiError(0, { code: 'unknown', message: (err as Error).message }),
      );
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, onSubmit, fieldError: (f: string) => error?.field(f) };
}

/**
 * A labelled control (its one child) with the API's message for it, if it named it; the label
 * alone names the control (the message is its description).
 */
export function Field(props: { label: string; error?: string; children: ReactElement }) {
  const id = useId();
  const control = cloneElement(props.children as ReactElement<Record<string, unknown>>, {
    id,
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': props.error ? `${id}-error` : undefined,
  });
  return (
    <div className={props.error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{props.label}</label>
      {control}
      {props.error && (
        <em className="field-error" id={`${id}-error`} role="alert">
          {props.error}
        </em>
      )}
    </div>
  );
}

export function FormError(props: { error?: ApiError }) {
  if (!props.error) return null;
  return (
    <p className="form-error" role="alert">
      {props.error.body.message}
    </p>
  );
}

/** A dialog form's Cancel and submit buttons; submit waits while the call runs. */
export function DialogButtons(props: { onCancel: () => void; busy: boolean; submit: string }) {
  return (
    <footer>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={props.busy}>
        {props.submit}
      </button>
    </footer>
  );
}

/** Every destructive action asks first. */
export function confirmed(what: string): boolean {
  return window.confirm(what);
}

/** One option per host, by id, after a first option meaning "none" or "all". */
export function HostOptions(props: { hosts: HostView[] | undefined; first: string }) {
  return (
    <>
      <option value="">{props.first}</option>
      {(props.hosts ?? []).map((h) => (
        <option key={h.id} value={h.id}>
          {h.id}
        </option>
      ))}
    </>
  );
}
