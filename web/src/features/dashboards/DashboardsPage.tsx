import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the dashboards feature lives in this folder (see web/README.md). */
export default function DashboardsPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.dashboards")} />
      <EmptyState title={t("page.dashboards")} body={t("common.comingSoon")} />
    </>
  );
}
