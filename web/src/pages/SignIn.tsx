import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ApiError } from "../api/errors";
import { useAuth } from "../auth";
import { useI18n, type MessageKey } from "../i18n";
import { Button, TextField } from "../ui";

export default function SignIn() {
  const { signIn, signedOutReason } = useAuth();
  const { t, lang, setLang } = useI18n();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<MessageKey | null>(
    signedOutReason === "refresh_failed" ? "signIn.sessionEnded" : null,
  );

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      navigate("/inbox", { replace: true });
    } catch (err) {
      setPassword("");
      if (err instanceof ApiError && (err.status === 401 || err.status === 422)) setError("signIn.wrongCredentials");
      else if (err instanceof ApiError && err.status === 429) setError("signIn.tooManyAttempts");
      else if (err instanceof ApiError) setError(err.messageKey);
      else setError("error.unknown");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form className="signin__card" onSubmit={onSubmit} noValidate>
        <div className="lang-switch signin__lang" role="group" aria-label={t("header.language")}>
          <button type="button" lang="th" aria-pressed={lang === "th"} onClick={() => setLang("th")}>
            ไทย
          </button>
          <button type="button" lang="en" aria-pressed={lang === "en"} onClick={() => setLang("en")}>
            English
          </button>
        </div>
        <h1 className="signin__title">{t("signIn.title")}</h1>
        <p className="signin__subtitle">
          {t("app.name")} · {t("signIn.subtitle")}
        </p>
        <TextField
          label={t("signIn.email")}
          type="email"
          name="username"
          autoComplete="username"
          inputMode="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label={t("signIn.password")}
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <div className="signin__error" role="alert">
          {error && t(error)}
        </div>
        <Button type="submit" busy={busy} disabled={!email || !password} className="signin__submit">
          {busy ? t("signIn.submitting") : t("signIn.submit")}
        </Button>
      </form>
    </main>
  );
}
