import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the customers feature lives in this folder (see web/README.md). */
export default function CustomersPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.customers")} />
      <EmptyState title={t("page.customers")} body={t("common.comingSoon")} />
    </>
  );
}
