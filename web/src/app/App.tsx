import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";
import { useAuth, type Permission } from "../auth";
import { useT } from "../i18n";
import { LiveProvider } from "../live";
import { AppShell, EmptyState, Spinner } from "../ui";
import { HandoverToasts } from "./HandoverToasts";
import { NAV } from "./nav";
import SignIn from "../pages/SignIn";

// Feature pages are split out of the first screen's bundle (each is its own chunk).
const pages: Record<string, LazyExoticComponent<ComponentType>> = {
  "/inbox": lazy(() => import("../features/inbox")),
  "/customers": lazy(() => import("../features/customers")),
  "/catalog": lazy(() => import("../features/catalog")),
  "/dashboards": lazy(() => import("../features/dashboards")),
  "/syncs": lazy(() => import("../features/syncs")),
  "/knowledge": lazy(() => import("../features/knowledge")),
  "/staff": lazy(() => import("../features/staff")),
  "/audit": lazy(() => import("../features/audit")),
};

function Loading() {
  return (
    <div className="page-loading">
      <Spinner />
    </div>
  );
}

function Guard({ permission, children }: { permission: Permission; children: React.ReactNode }) {
  const { can } = useAuth();
  const t = useT();
  if (!can(permission)) return <EmptyState title={t("common.notAllowedTitle")} body={t("common.notAllowedBody")} />;
  return children;
}

function NotFound() {
  const t = useT();
  return <EmptyState title={t("common.notFoundTitle")} body={t("common.notFoundBody")} />;
}

/** The first page the user may see (the inbox for most roles). */
function Home() {
  const { can } = useAuth();
  const first = NAV.find((item) => can(item.permission));
  return first ? <Navigate to={first.to} replace /> : <NotFound />;
}

function SignedInApp() {
  return (
    <LiveProvider>
      <HandoverToasts />
      <AppShell nav={NAV}>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<Home />} />
            {NAV.map((item) => {
              const Page = pages[item.to]!;
              return (
                <Route
                  key={item.to}
                  path={`${item.to}/*`}
                  element={
                    <Guard permission={item.permission}>
                      <Page />
                    </Guard>
                  }
                />
              );
            })}
            <Route path="/signin" element={<Home />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </AppShell>
    </LiveProvider>
  );
}

function Gate() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "restoring") return <Loading />;
  if (status === "signedOut") {
    if (location.pathname !== "/signin") return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
    return <SignIn />;
  }
  return <SignedInApp />;
}

export function App() {
  return (
    <BrowserRouter>
      <Gate />
    </BrowserRouter>
  );
}
