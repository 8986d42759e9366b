import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { LiveConnection, type LiveEvent, type LiveState } from "../lib/live";
import { LiveContext } from "./context";
import { invalidateFor } from "./invalidation";

/** Keeps one live stream open while mounted (mount it only when signed in). */
export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  const listeners = useRef(new Set<(e: LiveEvent) => void>());

  useEffect(() => {
    const conn = new LiveConnection({
      onState: setState,
      onEvent: (e) => {
        invalidateFor(queryClient, e);
        for (const l of listeners.current) l(e);
      },
    });
    conn.start();
    return () => conn.stop();
  }, [queryClient]);

  const subscribe = useCallback((listener: (e: LiveEvent) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const value = useMemo(() => ({ state, subscribe }), [state, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}
