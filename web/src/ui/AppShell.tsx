import { useState, type ReactNode } from "react";
import { NavLink, useLocation } from "react-router";
import { useAuth, type Permission } from "../auth";
import { useI18n, type MessageKey } from "../i18n";
import { useLive } from "../live";
import { Button } from "./Button";

export interface NavItem {
  to: string;
  label: MessageKey;
  /** Hidden from users without it. */
  permission: Permission;
}

/**
 * The frame of every signed-in page: side navigation on a desktop, a menu button that opens
 * it on a phone; the header with the user, language switch, live indicator and sign-out.
 */
export function AppShell({ nav, children }: { nav: readonly NavItem[]; children: ReactNode }) {
  const { me, signOut, can } = useAuth();
  const { t } = useI18n();
  const location = useLocation();
  // The phone menu is open for the page it was opened on: following a link closes it.
  const [menuOpenOn, setMenuOpenOn] = useState<string | null>(null);
  const menuOpen = menuOpenOn === location.pathname;
  const setMenuOpen = (open: boolean) => setMenuOpenOn(open ? location.pathname : null);

  const items = nav.filter((item) => can(item.permission));
  return (
    <div className={`shell${menuOpen ? " shell--menu-open" : ""}`}>
      <a className="skip-link" href="#main">
        {t("app.skipToContent")}
      </a>
      <header className="shell__header">
        <button
          type="button"
          className="shell__menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span>
          <span className="visually-hidden">{menuOpen ? t("nav.closeMenu") : t("nav.menu")}</span>
        </button>
        <span className="shell__brand">{t("app.name")}</span>
        <div className="shell__header-end">
          <LiveIndicator />
          <LanguageSwitch />
          {me && (
            <span className="shell__user" title={t("header.signedInAs", { email: me.email })}>
              <span className="shell__email">{me.email}</span>
              <span className="shell__role">{t(`role.${me.role}`)}</span>
            </span>
          )}
          <Button variant="ghost" size="sm" onClick={() => void signOut()}>
            {t("header.signOut")}
          </Button>
        </div>
      </header>
      <nav id="main-nav" className="shell__nav" aria-label={t("nav.main")}>
        <ul>
          {items.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} className={({ isActive }) => `nav-link${isActive ? " nav-link--active" : ""}`}>
                {t(item.label)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      {menuOpen && <div className="shell__scrim" aria-hidden="true" onClick={() => setMenuOpen(false)} />}
      <main id="main" className="shell__main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <div className="lang-switch" role="group" aria-label={t("header.language")}>
      <button type="button" lang="th" aria-pressed={lang === "th"} onClick={() => setLang("th")}>
        ไทย
      </button>
      <button type="button" lang="en" aria-pressed={lang === "en"} onClick={() => setLang("en")}>
        English
      </button>
    </div>
  );
}

function LiveIndicator() {
  const { state } = useLive();
  const { t } = useI18n();
  const label: MessageKey =
    state === "connected"
      ? "live.connected"
      : state === "connecting"
        ? "live.connecting"
        : state === "reconnecting"
          ? "live.reconnecting"
          : "live.offline";
  const hint: MessageKey = state === "connected" ? "live.connectedHint" : "live.reconnectingHint";
  return (
    <span className={`live live--${state}`} role="status" title={t(hint)}>
      <span className="live__dot" aria-hidden="true" />
      <span className="live__label">{t(label)}</span>
    </span>
  );
}
