import { useCan } from "../auth";
import { useT } from "../i18n";
import { useLiveEvent } from "../live";
import { useToast } from "../ui";

/** Tells staff who can reply when a customer asks for a person. */
export function HandoverToasts() {
  const t = useT();
  const toast = useToast();
  const canReply = useCan("conversation:reply");
  useLiveEvent((e) => {
    if (canReply && e.kind === "change" && e.topic === "conversations" && e.needs_human) {
      toast({ message: t("live.handoverRequested"), tone: "warning" });
    }
  });
  return null;
}
