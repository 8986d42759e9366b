import { createContext, useContext, useEffect, useRef } from "react";
import type { LiveEvent, LiveState } from "../lib/live";

export interface LiveContextValue {
  state: LiveState;
  /** Subscribe to raw events (e.g. a toast on handover); returns the unsubscribe function. */
  subscribe: (listener: (e: LiveEvent) => void) => () => void;
}

export const LiveContext = createContext<LiveContextValue | null>(null);

export function useLive(): LiveContextValue {
  const ctx = useContext(LiveContext);
  if (!ctx) throw new Error("useLive must be used inside <LiveProvider>");
  return ctx;
}

/** Calls `handler` for every live event while the component is mounted. */
export function useLiveEvent(handler: (e: LiveEvent) => void): void {
  const { subscribe } = useLive();
  const ref = useRef(handler);
  useEffect(() => {
    ref.current = handler;
  });
  useEffect(() => subscribe((e) => ref.current(e)), [subscribe]);
}
