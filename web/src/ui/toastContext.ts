import { createContext, useContext } from "react";

export type ToastTone = "info" | "success" | "warning" | "danger";
export interface ToastInput {
  message: string;
  tone?: ToastTone;
  /** Milliseconds before it goes away; 0 keeps it until dismissed. Default 6000. */
  duration?: number;
}
export interface Toast extends Required<ToastInput> {
  id: number;
}

export const ToastContext = createContext<((toast: ToastInput) => void) | null>(null);

/** `const toast = useToast(); toast({ message: t("…"), tone: "success" })` */
export function useToast(): (toast: ToastInput) => void {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error("useToast must be used inside <ToastProvider>");
  return ctx;
}
