import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "./api/errors";
import { AuthProvider } from "./auth";
import { I18nProvider } from "./i18n";
import { ToastProvider } from "./ui";
import { App } from "./app/App";
import "./ui/ui.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Live events invalidate what changed, so data can stay fresh for a while.
      staleTime: 30_000,
      retry: (failures, err) =>
        failures < 2 && (!(err instanceof ApiError) || err.kind === "network" || err.kind === "unavailable"),
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <AuthProvider>
          <ToastProvider>
            <App />
          </ToastProvider>
        </AuthProvider>
      </I18nProvider>
    </QueryClientProvider>
  </StrictMode>,
);
