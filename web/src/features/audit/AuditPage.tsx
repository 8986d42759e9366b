import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the audit feature lives in this folder (see web/README.md). */
export default function AuditPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.audit")} />
      <EmptyState title={t("page.audit")} body={t("common.comingSoon")} />
    </>
  );
}
