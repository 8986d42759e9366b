import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the catalog feature lives in this folder (see web/README.md). */
export default function CatalogPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.catalog")} />
      <EmptyState title={t("page.catalog")} body={t("common.comingSoon")} />
    </>
  );
}
