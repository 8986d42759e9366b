import { useEffect, useRef } from "react";
import { useT } from "../../i18n";
import { Button } from "../../ui";

const ROWS = [
  ["j", "inbox.shortcuts.next"],
  ["k", "inbox.shortcuts.previous"],
  ["r", "inbox.shortcuts.reply"],
  ["Enter", "inbox.shortcuts.send"],
  ["Shift+Enter", "inbox.shortcuts.newline"],
  ["Esc", "inbox.shortcuts.back"],
  ["?", "inbox.shortcuts.help"],
] as const;

/** The list of keyboard shortcuts, in a modal <dialog> (Esc closes it, focus returns). */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === "function") d.showModal();
      else d.setAttribute("open", "");
    } else if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="inbox-dialog" aria-labelledby="inbox-shortcuts-title" onClose={onClose} data-testid="shortcuts">
      <h2 id="inbox-shortcuts-title">{t("inbox.shortcuts.title")}</h2>
      <table className="inbox-shortcuts">
        <tbody>
          {ROWS.map(([key, label]) => (
            <tr key={key}>
              <th scope="row">
                <kbd>{key}</kbd>
              </th>
              <td>{t(label)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="inbox-muted">{t("inbox.shortcuts.note")}</p>
      <div className="inbox-dialog__actions">
        <Button variant="secondary" onClick={onClose}>
          {t("common.close")}
        </Button>
      </div>
    </dialog>
  );
}
