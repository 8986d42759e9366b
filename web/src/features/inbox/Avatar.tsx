import { useState } from "react";
import { initials } from "./logic";

/** The customer's Messenger picture, or their initials when there is none (or it fails to load). */
export function Avatar({ name, src, size = "md" }: { name: string | null; src?: string | null; size?: "md" | "lg" }) {
  const [failed, setFailed] = useState(false);
  const cls = `inbox-avatar inbox-avatar--${size}`;
  if (src && !failed) {
    return <img className={cls} src={src} alt="" loading="lazy" referrerPolicy="no-referrer" onError={() => setFailed(true)} />;
  }
  return (
    <span className={`${cls} inbox-avatar--initials`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
