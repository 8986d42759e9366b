import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the staff feature lives in this folder (see web/README.md). */
export default function StaffPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.staff")} />
      <EmptyState title={t("page.staff")} body={t("common.comingSoon")} />
    </>
  );
}
