import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the inbox feature lives in this folder (see web/README.md). */
export default function InboxPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.inbox")} />
      <EmptyState title={t("page.inbox")} body={t("common.comingSoon")} />
    </>
  );
}
