import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { useT } from "../i18n";
import { ToastContext, type Toast, type ToastInput } from "./toastContext";

/** Toasts are announced by screen readers (aria-live), errors assertively. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    setToasts((all) => all.filter((x) => x.id !== id));
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
  }, []);

  const push = useCallback(
    (input: ToastInput) => {
      const toast: Toast = { id: nextId.current++, tone: "info", duration: 6000, ...input };
      setToasts((all) => [...all.slice(-4), toast]);
      if (toast.duration > 0) timers.current.set(toast.id, setTimeout(() => dismiss(toast.id), toast.duration));
    },
    [dismiss],
  );

  useEffect(() => {
    const all = timers.current;
    return () => all.forEach((t) => clearTimeout(t));
  }, []);

  return (
    <ToastContext.Provider value={push}>
      {children}
      <ToastList toasts={toasts} onDismiss={dismiss} />
    </ToastContext.Provider>
  );
}

function ToastList({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  const t = useT();
  const polite = toasts.filter((x) => x.tone !== "danger");
  const urgent = toasts.filter((x) => x.tone === "danger");
  const render = (x: Toast) => (
    <div key={x.id} className={`toast toast--${x.tone}`}>
      <p className="toast__message">{x.message}</p>
      <button type="button" className="toast__close" onClick={() => onDismiss(x.id)} aria-label={t("common.dismiss")}>
        ×
      </button>
    </div>
  );
  return (
    <div className="toasts">
      <div aria-live="polite" aria-atomic="false">
        {polite.map(render)}
      </div>
      <div aria-live="assertive" aria-atomic="false">
        {urgent.map(render)}
      </div>
    </div>
  );
}
